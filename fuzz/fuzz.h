/*
 * fuzz.h: what the fuzz targets share. Each target is one file defining
 * LLVMFuzzerTestOneInput; built with clang's -fsanitize=fuzzer by `make
 * fuzz` (fuzz/run.sh), and with replay.c's main by `make check`, which
 * runs it over fuzz/corpus/TARGET/ (the seeds and every input that once
 * crashed a target) so a finding stays fixed.
 */
#ifndef HVM_FUZZ_H
#define HVM_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* An invariant broke: say which, and abort so the fuzzer keeps the input. */
#define FUZZ_FAIL(...) do { \
	fprintf(stderr, "%s:%d: ", __FILE__, __LINE__); \
	fprintf(stderr, __VA_ARGS__); \
	fputc('\n', stderr); \
	abort(); \
} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
