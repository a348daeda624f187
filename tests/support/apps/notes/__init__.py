"""A tiny Proper app exercising what the library must isolate."""
