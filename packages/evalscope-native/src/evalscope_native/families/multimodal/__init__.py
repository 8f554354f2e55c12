"""Image question answering through OpenAI-compatible chat: general_vqa, mmmu, math_vista (docs/benchmarks/multimodal.md)."""
