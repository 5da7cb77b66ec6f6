"""The whole centre on one machine, for the demo, the tests and the benchmarks: an embedded Redis and our
own entry points as child processes. Not part of a deployment."""
