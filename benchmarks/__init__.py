"""symgrad benchmarks: the W1-W5 workloads and the issue-2 build/gradient/memory benchmark."""
