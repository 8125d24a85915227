"""Developer tools that look across all services (never imported by a service)."""
