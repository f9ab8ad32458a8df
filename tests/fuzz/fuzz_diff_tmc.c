/* libFuzzer target for the tmc format of the diff engine (see fuzz_format.h). */
#include "fuzz_format.h"

FUZZ_FORMAT(diff_fmt_tmc, true)
