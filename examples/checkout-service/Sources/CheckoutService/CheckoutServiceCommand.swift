// A checkout service that calls an inventory service over HTTP through a
// pipeline whose traffic split has a stable and a canary upstream, with the
// Sentinel embedded (running the canary recipe) and its admin API on a
// second port. One executable, three roles, so the demo runs real processes:
//
//   checkout-service inventory --name stable --port 8081
//   checkout-service inventory --name canary --port 8082 --error-rate 0.05
//   checkout-service serve --stable http://127.0.0.1:8081 --canary http://127.0.0.1:8082 \
//     --policies policies --admin 127.0.0.1:9464 --admin-tokens tokens.yaml
//   checkout-service load --url http://127.0.0.1:8080/checkout --rate 400
//
// README.md next to this folder's parent, and demo.sh, which starts it all.
import ArgumentParser

@main
struct CheckoutServiceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checkout-service",
        abstract: "An example service with a Sentinel embedded, its inventory backend, and a load generator.",
        subcommands: [ServeCommand.self, InventoryCommand.self, LoadCommand.self]
    )
}
