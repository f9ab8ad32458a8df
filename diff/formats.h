/*
 * diff/formats.h - the format objects the registry knows.
 *
 * Each format lives in diff/fmt_<name>.c and defines one const
 * struct diff_format (see diff/model.h).  The registry (diff/registry.c)
 * lists them; detection asks each in turn and keeps the highest score.
 */
#ifndef OTCM_DIFF_FORMATS_H
#define OTCM_DIFF_FORMATS_H

#include <stddef.h>

#include "diff/model.h"

/* XML formats (diff/fmt_*.c over diff/xml.h). */
extern const struct diff_format diff_fmt_l5x, diff_fmt_plcopen, diff_fmt_twincat,
	diff_fmt_batchml, diff_fmt_tcsm, diff_fmt_tmc, diff_fmt_plcproj, diff_fmt_xml;

/* Text formats. */
extern const struct diff_format diff_fmt_st, diff_fmt_awl, diff_fmt_csv, diff_fmt_ini,
	diff_fmt_json, diff_fmt_sln, diff_fmt_binary;

/*
 * The registered formats, best-known first; *out_count receives how many.
 * The array and its elements are static (borrowed).
 */
const struct diff_format *const *diff_formats(size_t *out_count);

/* The registered format called `name`, or NULL. */
const struct diff_format *diff_format_find(const char *name);

#endif
