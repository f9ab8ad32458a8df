/* libFuzzer target for the sln format of the diff engine (see fuzz_format.h). */
#include "fuzz_format.h"

FUZZ_FORMAT(diff_fmt_sln, false)
