#ifndef RUNNEL_RE2_H
#define RUNNEL_RE2_H
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// A compiled RE2 program. Opaque: Swift holds it as an OpaquePointer and frees it once.
typedef struct runnel_re2 runnel_re2;

/// Compiles `pattern` (`length` bytes of UTF-8, no terminator needed) with RE2's default
/// syntax (the Perl-like one RE2/J also speaks), case-sensitive. `memory_bytes_max` is RE2's
/// `max_mem`, the budget for the program and for the DFA states cached while matching; a
/// pattern whose program outgrows it while compiling is refused, which bounds the compile.
/// `program_size_max` then bounds the program's instructions (RE2's ProgramSize), which bounds
/// the cost of matching one name. Returns NULL when RE2 refuses the pattern, a bound is
/// exceeded or memory runs out, and writes the reason, NUL-terminated and cut to
/// `reason_capacity` bytes, into `reason`. Never logs. Free a non-NULL result with
/// runnel_re2_free.
runnel_re2 *runnel_re2_compile(const char *pattern, size_t length, int64_t memory_bytes_max,
                               int program_size_max, char *reason, size_t reason_capacity);

/// 1 when the whole of `text` (`length` bytes of UTF-8) matches, else 0. RE2 runs in time
/// linear in `length` for a given program and never backtracks. A program may be matched from
/// several threads at once.
int runnel_re2_full_match(const runnel_re2 *regex, const char *text, size_t length);

/// Frees a program from runnel_re2_compile. NULL is ignored.
void runnel_re2_free(runnel_re2 *regex);

#ifdef __cplusplus
}
#endif
#endif
