// Intentionally empty: the target only carries include/CLibFuzzer.h.
