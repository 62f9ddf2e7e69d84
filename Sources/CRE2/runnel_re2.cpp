// The C face of RE2 for Swift (Sources/GroupCoordinator/TopicRegex.swift). Swift cannot call
// C++ classes without C++ interoperability, which would spread to every module importing this
// one, so three plain functions hide the RE2 object behind an opaque pointer. No C++ exception
// may cross into Swift: RE2 reports a refused pattern by value, and the only exception left,
// running out of memory while compiling, is caught and reported like one.
#include "runnel_re2.h"

#include <re2/re2.h>

#include <cstring>
#include <new>
#include <string>

struct runnel_re2 {
    RE2 program;
    runnel_re2(re2::StringPiece pattern, const RE2::Options &options) : program(pattern, options) {}
};

static void copy_reason(const std::string &text, char *reason, size_t capacity) {
    if (reason == nullptr || capacity == 0) return;
    size_t n = text.size() < capacity - 1 ? text.size() : capacity - 1;
    std::memcpy(reason, text.data(), n);
    reason[n] = '\0';
}

extern "C" runnel_re2 *runnel_re2_compile(const char *pattern, size_t length, int64_t memory_bytes_max,
                                          int program_size_max, char *reason, size_t reason_capacity) {
    RE2::Options options;            // UTF-8, Perl-like syntax, case-sensitive, longest_match off
    options.set_log_errors(false);   // the caller reports the reason; RE2 must not write to stderr
    options.set_max_mem(memory_bytes_max);
    runnel_re2 *compiled = nullptr;
    try {
        compiled = new runnel_re2(re2::StringPiece(pattern, length), options);
    } catch (const std::bad_alloc &) {
        copy_reason("out of memory", reason, reason_capacity);
        return nullptr;
    }
    if (!compiled->program.ok()) {
        copy_reason(compiled->program.error(), reason, reason_capacity);
        delete compiled;
        return nullptr;
    }
    int size = compiled->program.ProgramSize();
    if (size > program_size_max) {
        copy_reason("pattern too large - program of " + std::to_string(size) + " instructions, at most " +
                        std::to_string(program_size_max),
                    reason, reason_capacity);
        delete compiled;
        return nullptr;
    }
    return compiled;
}

extern "C" int runnel_re2_full_match(const runnel_re2 *regex, const char *text, size_t length) {
    return RE2::FullMatch(re2::StringPiece(text, length), regex->program) ? 1 : 0;
}

extern "C" void runnel_re2_free(runnel_re2 *regex) { delete regex; }
