"""The provider webhook receiver: verify, store durably, answer, apply in a job."""
