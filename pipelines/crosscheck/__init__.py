"""Department cross-checks (issue 16 part 1): department lists against the registry."""
