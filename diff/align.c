/*
 * diff/align.c - hashing and the bounded alignment of two sequences of
 * hashes (Myers with a cap on edit distance, falling back to unique
 * anchors); see align.h.
 */
#include "diff/align.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"

/* ---- hashing ---- */

uint64_t dalign_mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

uint64_t dalign_hash(const char *s, size_t len, uint64_t seed)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ seed;

	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ULL;
	}
	return dalign_mix(h ^ len);
}

uint64_t dalign_hash_str(const char *s, uint64_t seed)
{
	return s ? dalign_hash(s, strlen(s), seed) : dalign_mix(seed ^ 0x9e3779b97f4a7c15ULL);
}

/* ---- bounded alignment of two sequences of hashes ---- */

void dalign_push(struct dalign_pairs *p, size_t a, size_t b)
{
	if (p->n == p->alloc) {
		p->alloc = p->alloc ? p->alloc * 2 : 64;
		p->v = xrealloc(p->v, p->alloc * sizeof(*p->v));
	}
	p->v[p->n].a = a;
	p->v[p->n].b = b;
	p->n++;
}

#define MYERS_MAX_D 1000
#define MYERS_WORK 50000000.0

/*
 * Myers' O(ND) alignment of a[0..n) and b[0..m), matches pushed with
 * offsets ao/bo, in increasing order.  Returns false (pushing nothing) when
 * the edit distance exceeds maxd.  Memory O(maxd^2).
 */
static bool myers(const uint64_t *a, size_t n, const uint64_t *b, size_t m,
                  size_t ao, size_t bo, long maxd, struct dalign_pairs *out)
{
	long N = (long)n, M = (long)m, D = N + M < maxd ? N + M : maxd, found = -1;
	long off = D + 1, *v = xcalloc((size_t)(2 * D + 3), sizeof(long));
	long **trace = xcalloc((size_t)D + 1, sizeof(long *));
	struct dalign_pair *rev = NULL;
	size_t nrev = 0;

	for (long d = 0; d <= D && found < 0; d++) {
		trace[d] = xmemdup(v + off - d - 1, (size_t)(2 * d + 3) * sizeof(long));
		for (long k = -d; k <= d; k += 2) {
			long x, y;

			if (k == -d || (k != d && v[off + k - 1] < v[off + k + 1]))
				x = v[off + k + 1];
			else
				x = v[off + k - 1] + 1;
			y = x - k;
			while (x < N && y < M && a[x] == b[y]) {
				x++;
				y++;
			}
			v[off + k] = x;
			if (x >= N && y >= M) {
				found = d;
				break;
			}
		}
	}
	if (found >= 0) {
		long x = N, y = M;

		rev = xmalloc((size_t)(N < M ? N : M) * sizeof(*rev) + sizeof(*rev));
		for (long d = found; d >= 0; d--) {
			long *tv = trace[d] + d + 1;   /* tv[k] for k in [-d-1, d+1] */
			long k = x - y, pk, px, py;

			if (k == -d || (k != d && tv[k - 1] < tv[k + 1]))
				pk = k + 1;
			else
				pk = k - 1;
			px = d ? tv[pk] : 0;
			py = px - pk;
			if (!d) {
				px = 0;
				py = 0;
			}
			while (x > px && y > py) {
				rev[nrev].a = (size_t)x - 1;
				rev[nrev].b = (size_t)y - 1;
				nrev++;
				x--;
				y--;
			}
			x = px;
			y = py;
		}
		while (nrev)
			dalign_push(out, rev[nrev - 1].a + ao, rev[nrev - 1].b + bo), nrev--;
	}
	for (long d = 0; d <= D; d++)
		free(trace[d]);
	free(trace);
	free(v);
	free(rev);
	return found >= 0;
}

static long myers_budget(size_t n, size_t m)
{
	double d = MYERS_WORK / ((double)n + (double)m + 1.0);

	return d > MYERS_MAX_D ? MYERS_MAX_D : d < 16 ? 16 : (long)d;
}

int dalign_hidx_cmp(const void *x, const void *y)
{
	const struct dalign_hidx *p = x, *q = y;

	if (p->h != q->h)
		return p->h < q->h ? -1 : 1;
	return p->i < q->i ? -1 : p->i > q->i;
}

/* Sorted (hash, index) with a flag: unique within its sequence. */
static struct dalign_hidx *sorted_unique(const uint64_t *s, size_t n, size_t *out_n)
{
	struct dalign_hidx *v = xmalloc((n + 1) * sizeof(*v)), *u = xmalloc((n + 1) * sizeof(*u));
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		v[i] = (struct dalign_hidx){ s[i], i };
	qsort(v, n, sizeof(*v), dalign_hidx_cmp);
	for (size_t i = 0; i < n; i++)
		if ((i == 0 || v[i - 1].h != v[i].h) && (i + 1 == n || v[i + 1].h != v[i].h))
			u[k++] = v[i];
	free(v);
	*out_n = k;
	return u;
}

/*
 * Patience-style anchors: elements unique in both, kept in a longest
 * increasing run; the gaps between anchors get a small Myers each.
 */
static void anchor_align(const uint64_t *a, size_t n, const uint64_t *b, size_t m,
                         size_t ao, size_t bo, struct dalign_pairs *out)
{
	size_t nu, mu, nc = 0, len = 0;
	struct dalign_hidx *ua = sorted_unique(a, n, &nu), *ub = sorted_unique(b, m, &mu);
	struct dalign_pair *cand = xmalloc((nu < mu ? nu : mu) * sizeof(*cand) + sizeof(*cand));
	size_t *tail, *prev, *lis;
	size_t pa = 0, pb = 0;

	for (size_t i = 0, j = 0; i < nu && j < mu;) {
		if (ua[i].h < ub[j].h)
			i++;
		else if (ua[i].h > ub[j].h)
			j++;
		else
			cand[nc++] = (struct dalign_pair){ ua[i++].i, ub[j++].i };
	}
	free(ua);
	free(ub);
	/* candidates sorted by a: order them, then the longest run increasing in b */
	for (size_t i = 1; i < nc; i++) {
		struct dalign_pair t = cand[i];
		size_t j = i;

		if (cand[j - 1].a < t.a)
			continue;
		while (j > 0 && cand[j - 1].a > t.a) {
			cand[j] = cand[j - 1];
			j--;
		}
		cand[j] = t;
	}
	tail = xmalloc((nc + 1) * sizeof(size_t));
	prev = xmalloc((nc + 1) * sizeof(size_t));
	for (size_t i = 0; i < nc; i++) {
		size_t lo = 0, hi = len;

		while (lo < hi) {
			size_t mid = (lo + hi) / 2;

			if (cand[tail[mid]].b < cand[i].b)
				lo = mid + 1;
			else
				hi = mid;
		}
		prev[i] = lo ? tail[lo - 1] : SIZE_MAX;
		tail[lo] = i;
		if (lo == len)
			len++;
	}
	lis = xmalloc((len + 1) * sizeof(size_t));
	for (size_t k = len, i = len ? tail[len - 1] : SIZE_MAX; k > 0; k--) {
		lis[k - 1] = i;
		i = prev[i];
	}
	for (size_t k = 0; k <= len; k++) {
		size_t ea = k < len ? cand[lis[k]].a : n, eb = k < len ? cand[lis[k]].b : m;

		if (ea > pa && eb > pb)
			myers(a + pa, ea - pa, b + pb, eb - pb, ao + pa, bo + pb,
			      myers_budget(ea - pa, eb - pb) / 4 + 8, out);
		if (k < len) {
			dalign_push(out, ao + ea, bo + eb);
			pa = ea + 1;
			pb = eb + 1;
		}
	}
	free(lis);
	free(tail);
	free(prev);
	free(cand);
}

void dalign(const uint64_t *a, size_t n, const uint64_t *b, size_t m, struct dalign_pairs *out)
{
	size_t pre = 0, suf = 0;

	while (pre < n && pre < m && a[pre] == b[pre])
		dalign_push(out, pre, pre), pre++;
	while (suf < n - pre && suf < m - pre && a[n - 1 - suf] == b[m - 1 - suf])
		suf++;
	if (n - pre - suf && m - pre - suf &&
	    !myers(a + pre, n - pre - suf, b + pre, m - pre - suf, pre, pre,
	           myers_budget(n - pre - suf, m - pre - suf), out))
		anchor_align(a + pre, n - pre - suf, b + pre, m - pre - suf, pre, pre, out);
	for (size_t i = suf; i > 0; i--)
		dalign_push(out, n - i, m - i);
}
