"""HTTP plumbing every service uses: problem details, request ids, health probes."""
