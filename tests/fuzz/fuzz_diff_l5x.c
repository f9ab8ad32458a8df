/* libFuzzer target for the l5x format of the diff engine (see fuzz_format.h). */
#include "fuzz_format.h"

FUZZ_FORMAT(diff_fmt_l5x, true)
