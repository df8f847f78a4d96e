"""ragstage: grounded answers from a folder of documents with local language models."""

__version__ = "0.1.0"
