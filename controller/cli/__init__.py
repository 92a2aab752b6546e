"""The `microweld` command line: argparse and printing only; each command calls library code."""
