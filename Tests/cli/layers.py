#!/usr/bin/env python3
"""The Sentinel module's folders are layers, and dependencies point one way:

    Base (JSON, YAML, audit, persistence, state snapshots, alerts, metrics, reload)
      < ControlPlane < Approvals < Trials < Engine < Runtime

A file may use the types of its own layer and of the layers below, never of
one above. This check finds the types each layer declares and reports any
file that names a type of a higher layer (outside comments).

Usage: Tests/cli/layers.py  (from the repository's root; exit 1 on a violation)
"""
import glob, os, re, sys

ROOT = "Sources/Sentinel"
LAYERS = ["Base", "ControlPlane", "Approvals", "Trials", "Engine", "Runtime"]
DECLARATION = re.compile(
    r"^\s*(?:@\w+\s+)*(?:public |internal |private |fileprivate |package )?(?:final )?"
    r"(?:struct|class|enum|protocol|actor|typealias)\s+([A-Z]\w*)", re.M)

def source(path):
    text = open(path, encoding="utf-8").read()
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r"//.*", "", text)
    return re.sub(r'"(?:\\.|[^"\\])*"', '""', text)

files = {layer: sorted(glob.glob(f"{ROOT}/{layer}/**/*.swift", recursive=True)) for layer in LAYERS}
stray = [f for f in glob.glob(f"{ROOT}/**/*.swift", recursive=True) if not any(f in files[l] for l in LAYERS)]
problems = [f"{f}: not in a layer folder ({', '.join(LAYERS)})" for f in stray]
declared = {layer: set() for layer in LAYERS}
for layer in LAYERS:
    for path in files[layer]:
        declared[layer].update(DECLARATION.findall(open(path, encoding="utf-8").read()))
for index, layer in enumerate(LAYERS):
    above = {name: upper for upper in LAYERS[index + 1:] for name in declared[upper] - declared[layer]}
    if not above:
        continue
    pattern = re.compile(r"\b(" + "|".join(sorted(above, key=len, reverse=True)) + r")\b")
    for path in files[layer]:
        for number, line in enumerate(source(path).split("\n"), 1):
            for name in set(pattern.findall(line)):
                problems.append(f"{path}:{number}: {layer} uses {name} from {above[name]}, a layer above it")
for problem in problems:
    print(problem)
if problems:
    print(f"{len(problems)} dependencies point up the layers")
    sys.exit(1)
print("layers: " + " < ".join(LAYERS) + ": every dependency points down")
