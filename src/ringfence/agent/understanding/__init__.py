"""What the callee meant: labels, the labelled corpora, the learned model and the decision
that combines it with the high-precision rules (docs/agent-labels.md, docs/agent.md)."""
