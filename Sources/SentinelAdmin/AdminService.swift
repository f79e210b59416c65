// The admin API: see AdminService.
