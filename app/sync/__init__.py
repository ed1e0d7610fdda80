"""Pull and push orchestration."""
