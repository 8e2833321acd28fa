"""Pure rule functions, one module per rule family. Each returns a frozen result with an ``explanation``."""
