#ifndef CLIBFUZZER_H
#define CLIBFUZZER_H
#include <stddef.h>
#include <stdint.h>

// libFuzzer's driver entry point, exported by libclang_rt.fuzzer when a target is linked with
// -sanitize=fuzzer. Declared here because Swift cannot declare a C prototype itself; only the
// FUZZING build calls it (docs/decisions.md D80).
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif
