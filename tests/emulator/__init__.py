"""A local GitHub emulator (HTTPS on 127.0.0.1) that the real gh talks to in tests."""
