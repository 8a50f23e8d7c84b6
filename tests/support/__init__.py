"""Helpers shared by the tests: the virtual input device, in-process command runners."""
