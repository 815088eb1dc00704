/*
 * bench_intern.c: the interner on a real identifier stream, against GLib's
 * quarks, a GHashTable of strdup'd keys, and a tight single-threaded
 * open-addressing table with an arena for the strings (the limit).
 *
 * The stream: every identifier (keywords included) of every .py file of the
 * Python standard library, in file order, comments and string literals
 * skipped, as Python's tokenize would give its NAME tokens. The library is
 * the directory given as argument, or $RTM_BENCH_PYLIB, or what `python3`
 * reports as its stdlib, or the first /usr/lib/python3.*; third-party
 * site-packages are skipped. Without any, a generated corpus with the same
 * statistics (Zipf-distributed, ~45k unique of ~1.2M) stands in.
 *
 * Every contender gets the same tokens: pointers into one buffer of
 * NUL-terminated copies (GLib needs the NUL), with their lengths.
 *
 *   bench_intern [stdlib-dir]          the full comparison
 *   bench_intern --one NAME [dir]      one pass of one contender, for
 *       valgrind --tool=callgrind --toggle-collect=measured (instruction counts)
 *       NAME: rtmem, tight, ghash or quark, then -cold (from empty) or -warm
 *       (all hits: the pass after a first, uncounted, one)
 */
#include "bench.h"

#include "rtmem.h"
#include "../runtime/intern/intern.h" /* rtm_hash, so the limit table hashes alike */

#include <dirent.h>
#include <glib.h>
#include <malloc.h>
#include <math.h>
#include <pthread.h>
#include <sys/stat.h>

/* ---- the corpus ------------------------------------------------------------------ */

typedef struct corpus {
    char *text;                 /* NUL-terminated copies of every token */
    const char **tok;
    uint32_t *len;
    size_t n, files, text_bytes;
    char origin[512];
} corpus;

static void corpus_add(corpus *c, const char *s, size_t len, size_t *cap_tok, size_t *cap_text)
{
    if (c->n == *cap_tok) {
        *cap_tok = *cap_tok ? *cap_tok * 2 : 1 << 16;
        c->tok = realloc(c->tok, *cap_tok * sizeof *c->tok);
        c->len = realloc(c->len, *cap_tok * sizeof *c->len);
    }
    if (c->text_bytes + len + 1 > *cap_text) {
        while (c->text_bytes + len + 1 > *cap_text) *cap_text = *cap_text ? *cap_text * 2 : 1 << 20;
        c->text = realloc(c->text, *cap_text);
    }
    if (!c->tok || !c->len || !c->text) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    memcpy(c->text + c->text_bytes, s, len);
    c->text[c->text_bytes + len] = '\0';
    c->tok[c->n] = (const char *)(uintptr_t)c->text_bytes; /* an offset until the text stops moving */
    c->len[c->n++] = (uint32_t)len;
    c->text_bytes += len + 1;
}

static int id_start(unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80; }
static int id_char(unsigned char c) { return id_start(c) || (c >= '0' && c <= '9'); }

static int string_prefix(const char *s, size_t n)
{
    if (n == 0 || n > 2) return 0;
    int r = 0, b = 0, f = 0, u = 0;
    for (size_t i = 0; i < n; i++) {
        switch (s[i] | 0x20) {
        case 'r': r++; break;
        case 'b': b++; break;
        case 'f': f++; break;
        case 'u': u++; break;
        default: return 0;
        }
    }
    return r <= 1 && b <= 1 && f <= 1 && (u == 0 || n == 1) && !(b && f);
}

/* Past the string literal whose opening quote is at q. */
static size_t skip_string(const char *s, size_t n, size_t q)
{
    char quote = s[q];
    int triple = q + 2 < n && s[q + 1] == quote && s[q + 2] == quote;
    size_t i = q + (triple ? 3 : 1);
    while (i < n) {
        if (s[i] == '\\') i += 2;
        else if (triple && s[i] == quote && i + 2 < n && s[i + 1] == quote && s[i + 2] == quote) return i + 3;
        else if (!triple && s[i] == quote) return i + 1;
        else if (!triple && s[i] == '\n') return i;
        else i++;
    }
    return n;
}

/* The NAME tokens of one Python source. */
static void tokenize(corpus *c, const char *s, size_t n, size_t *cap_tok, size_t *cap_text)
{
    size_t i = 0;
    while (i < n) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '#') {
            while (i < n && s[i] != '\n') i++;
        } else if (id_start(ch)) {
            size_t j = i;
            while (j < n && id_char((unsigned char)s[j])) j++;
            if (j < n && (s[j] == '\'' || s[j] == '"') && string_prefix(s + i, j - i)) {
                i = skip_string(s, n, j);
                continue;
            }
            corpus_add(c, s + i, j - i, cap_tok, cap_text);
            i = j;
        } else if (ch == '\'' || ch == '"') {
            i = skip_string(s, n, i);
        } else if ((ch >= '0' && ch <= '9') || (ch == '.' && i + 1 < n && s[i + 1] >= '0' && s[i + 1] <= '9')) {
            int hex = ch == '0' && i + 1 < n && (s[i + 1] | 0x20) == 'x';
            size_t j = i + 1;
            while (j < n) {
                unsigned char d = (unsigned char)s[j];
                if (id_char(d) || d == '.') j++;
                else if ((d == '+' || d == '-') && !hex && (s[j - 1] | 0x20) == 'e') j++;
                else break;
            }
            i = j;
        } else {
            i++;
        }
    }
}

typedef struct path_list {
    char **v;
    size_t n, cap;
} path_list;

static void walk(const char *dir, path_list *out)
{
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        const char *name = e->d_name;
        if (name[0] == '.' || !strcmp(name, "site-packages") || !strcmp(name, "dist-packages") ||
            !strcmp(name, "__pycache__"))
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, name);
        struct stat st;
        if (lstat(path, &st) != 0) continue;
        if (S_ISDIR(st.st_mode)) {
            walk(path, out);
        } else if (S_ISREG(st.st_mode) && strlen(name) > 3 && !strcmp(name + strlen(name) - 3, ".py")) {
            if (out->n == out->cap) {
                out->cap = out->cap ? out->cap * 2 : 1024;
                out->v = realloc(out->v, out->cap * sizeof *out->v);
            }
            out->v[out->n++] = strdup(path);
        }
    }
    closedir(d);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int load_dir(corpus *c, const char *dir)
{
    path_list pl = {0};
    walk(dir, &pl);
    if (pl.n == 0) return 0;
    qsort(pl.v, pl.n, sizeof *pl.v, cmp_str);
    size_t cap_tok = 0, cap_text = 0, bufcap = 0;
    char *buf = NULL;
    for (size_t i = 0; i < pl.n; i++) {
        FILE *f = fopen(pl.v[i], "rb");
        if (f) {
            fseek(f, 0, SEEK_END);
            long size = ftell(f);
            fseek(f, 0, SEEK_SET);
            if (size > 0) {
                if ((size_t)size > bufcap) buf = realloc(buf, bufcap = (size_t)size);
                if (fread(buf, 1, (size_t)size, f) == (size_t)size) {
                    tokenize(c, buf, (size_t)size, &cap_tok, &cap_text);
                    c->files++;
                }
            }
            fclose(f);
        }
        free(pl.v[i]);
    }
    free(pl.v);
    free(buf);
    snprintf(c->origin, sizeof c->origin, "%s", dir);
    return c->n > 0;
}

static uint64_t xrand(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 2685821657736338717ull;
}

/* A stand-in with the statistics of the Python stream: ~45k unique names,
 * Zipf-distributed (s = 1), short frequent names and longer rare ones. */
static void generate(corpus *c)
{
    enum { UNIQUE = 45000, TOKENS = 1200000 };
    static const char alpha[] = "abcdefghijklmnopqrstuvwxyz_ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    size_t cap_tok = 0, cap_text = 0;
    char (*names)[48] = malloc(UNIQUE * sizeof *names);
    double *cdf = malloc(UNIQUE * sizeof *cdf), sum = 0;
    uint64_t rng = 42;
    for (unsigned r = 0; r < UNIQUE; r++) {
        size_t len = 2 + (size_t)(log2((double)r + 2) * 1.2) + xrand(&rng) % 6;
        if (len > 40) len = 40;
        names[r][0] = alpha[xrand(&rng) % 26];
        for (size_t k = 1; k < len; k++) names[r][k] = alpha[xrand(&rng) % 63];
        int tail = snprintf(names[r] + len, 8, "%u", r % 1000); /* keep them distinct enough */
        names[r][len + (size_t)tail] = '\0';
        sum += 1.0 / (r + 1);
        cdf[r] = sum;
    }
    for (size_t t = 0; t < TOKENS; t++) {
        double x = (double)(xrand(&rng) >> 11) / 9007199254740992.0 * sum;
        size_t lo = 0, hi = UNIQUE - 1;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (cdf[mid] < x) lo = mid + 1;
            else hi = mid;
        }
        corpus_add(c, names[lo], strlen(names[lo]), &cap_tok, &cap_text);
    }
    free(names);
    free(cdf);
    snprintf(c->origin, sizeof c->origin, "generated (Zipf, %d names)", UNIQUE);
}

static void corpus_finish(corpus *c)
{
    for (size_t i = 0; i < c->n; i++) c->tok[i] = c->text + (uintptr_t)c->tok[i];
}

static int cmp_desc(const void *a, const void *b) { return -cmp_str(a, b); }

static void corpus_load(corpus *c, const char *dir)
{
    memset(c, 0, sizeof *c);
    if (dir == NULL) dir = getenv("RTM_BENCH_PYLIB");
    if (dir != NULL && load_dir(c, dir)) goto done;
    char line[1024];
    FILE *p = popen("python3 -c 'import sysconfig; print(sysconfig.get_path(\"stdlib\"))' 2>/dev/null", "r");
    if (p != NULL) {
        int ok = fgets(line, sizeof line, p) != NULL;
        pclose(p);
        line[strcspn(line, "\n")] = 0;
        if (ok && line[0] && load_dir(c, line)) goto done;
    }
    DIR *d = opendir("/usr/lib");
    if (d != NULL) {
        char *names[64];
        size_t n = 0;
        struct dirent *e;
        while ((e = readdir(d)) != NULL && n < 64)
            if (!strncmp(e->d_name, "python3.", 8)) names[n++] = strdup(e->d_name);
        closedir(d);
        qsort(names, n, sizeof *names, cmp_desc);
        int found = 0;
        for (size_t i = 0; i < n; i++) {
            snprintf(line, sizeof line, "/usr/lib/%s", names[i]);
            if (!found && load_dir(c, line)) found = 1;
            free(names[i]);
        }
        if (found) goto done;
    }
    generate(c);
done:
    corpus_finish(c);
}

/* ---- the limit: a tight single-threaded table ----------------------------------------
 * Open addressing, linear probing, 8-byte slots [32-bit hash | arena offset],
 * grown at 3/4 load; records [id][len][bytes][NUL] in one arena grown by
 * doubling. The same hash as rtmem. */

typedef struct tight {
    uint64_t *slot;
    uint32_t mask, count, next_id;
    char *arena;
    size_t used, cap;
} tight;

static void tight_init(tight *t)
{
    t->mask = 1023;
    t->slot = calloc(t->mask + 1, 8);
    t->count = 0;
    t->next_id = 1;
    t->cap = 1 << 16;
    t->arena = malloc(t->cap);
    t->used = 8; /* offset 0 would read as an empty slot */
}

static void tight_free(tight *t)
{
    free(t->slot);
    free(t->arena);
}

static RTM_NOINLINE void tight_grow(tight *t)
{
    uint32_t mask = t->mask * 2 + 1;
    uint64_t *slot = calloc((size_t)mask + 1, 8);
    for (size_t i = 0; i <= t->mask; i++) {
        uint64_t e = t->slot[i];
        if (!e) continue;
        size_t j = (e >> 32) & mask;
        while (slot[j]) j = (j + 1) & mask;
        slot[j] = e;
    }
    free(t->slot);
    t->slot = slot;
    t->mask = mask;
}

static RTM_NOINLINE uint32_t tight_insert(tight *t, size_t i, uint32_t h32, const char *s, size_t len)
{
    size_t need = 8 + len + 1;
    if (t->used + need > t->cap) {
        while (t->used + need > t->cap) t->cap *= 2;
        t->arena = realloc(t->arena, t->cap);
    }
    char *r = t->arena + t->used;
    uint32_t id = t->next_id++, l = (uint32_t)len;
    memcpy(r, &id, 4);
    memcpy(r + 4, &l, 4);
    memcpy(r + 8, s, len);
    r[8 + len] = 0;
    t->slot[i] = ((uint64_t)h32 << 32) | t->used;
    t->used += need;
    if (++t->count * 4 > (t->mask + 1) * 3) tight_grow(t);
    return id;
}

/* Not inlined into the loop: rtmem is called through a function too. */
static RTM_NOINLINE uint32_t tight_intern(tight *t, const char *s, size_t len)
{
    uint32_t h32 = (uint32_t)(rtm_hash(s, len, 0x5eed) >> 32);
    size_t i = h32 & t->mask;
    for (;;) {
        uint64_t e = t->slot[i];
        if (e == 0) return tight_insert(t, i, h32, s, len);
        if ((uint32_t)(e >> 32) == h32) {
            const char *r = t->arena + (uint32_t)e;
            uint32_t rl;
            memcpy(&rl, r + 4, 4);
            if (rl == len && memcmp(r + 8, s, len) == 0) {
                uint32_t id;
                memcpy(&id, r, 4);
                return id;
            }
        }
        i = (i + 1) & t->mask;
    }
}

static size_t tight_bytes(const tight *t) { return ((size_t)t->mask + 1) * 8 + t->cap; }

/* ---- passes: one walk over the stream, for one contender -------------------------------- */

static corpus C;
static rtm_interner *g_in;
static tight g_tight;
static GHashTable *g_ht;
static uintptr_t g_ht_next;

typedef void (*pass_fn)(uint64_t *sink);

RTM_NOINLINE void pass_rtmem(uint64_t *sink)
{
    uint64_t sum = 0;
    for (size_t i = 0; i < C.n; i++) sum += rtm_intern(g_in, C.tok[i], C.len[i]);
    *sink = sum;
}

RTM_NOINLINE void pass_tight(uint64_t *sink)
{
    uint64_t sum = 0;
    for (size_t i = 0; i < C.n; i++) sum += tight_intern(&g_tight, C.tok[i], C.len[i]);
    *sink = sum;
}

RTM_NOINLINE void pass_quark(uint64_t *sink)
{
    uint64_t sum = 0;
    for (size_t i = 0; i < C.n; i++) sum += g_quark_from_string(C.tok[i]);
    *sink = sum;
}

RTM_NOINLINE void pass_ghash(uint64_t *sink)
{
    uint64_t sum = 0;
    for (size_t i = 0; i < C.n; i++) {
        gpointer v = g_hash_table_lookup(g_ht, C.tok[i]);
        if (v == NULL) {
            v = (gpointer)++g_ht_next;
            g_hash_table_insert(g_ht, g_strdup(C.tok[i]), v);
        }
        sum += (uintptr_t)v;
    }
    *sink = sum;
}

static void setup_rtmem(void) { g_in = rtm_interner_new((const char *const[]){"python", NULL}); }
static void teardown_rtmem(void) { rtm_interner_destroy(g_in); }
static void setup_tight(void) { tight_init(&g_tight); }
static void teardown_tight(void) { tight_free(&g_tight); }
static void setup_ghash(void)
{
    g_ht = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_ht_next = 0;
}
static void teardown_ghash(void) { g_hash_table_destroy(g_ht); }

static double pass_ns(pass_fn fn)
{
    uint64_t sink, t0 = bench_now_ns();
    fn(&sink);
    uint64_t t1 = bench_now_ns();
    bench_sink(&sink);
    return (double)(t1 - t0) / (double)C.n;
}

static size_t malloc_in_use(void)
{
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
}

/* ---- two threads ------------------------------------------------------------------------ */

static uint64_t thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

typedef struct duo {
    pass_fn fn;
    pthread_barrier_t *go;
    uint64_t sink, cpu;
} duo;

static void *duo_run(void *p)
{
    duo *d = p;
    pthread_barrier_wait(d->go);
    uint64_t c0 = thread_cpu_ns();
    d->fn(&d->sink);
    d->cpu = thread_cpu_ns() - c0;
    return NULL;
}

/* CPU ns per token of the last two_threads call, per thread (mean), and the
 * cores the two had between them (their CPU time over the wall time). */
static double g_two_cpu, g_two_cores;

/* One pass on this thread: CPU ns per token. */
static double pass_cpu_ns(pass_fn fn)
{
    uint64_t sink, c0 = thread_cpu_ns();
    fn(&sink);
    uint64_t c1 = thread_cpu_ns();
    bench_sink(&sink);
    return (double)(c1 - c0) / (double)C.n;
}

/* Two threads walking the whole stream at once: aggregate ns per token. */
static double two_threads(pass_fn fn)
{
    pthread_barrier_t go;
    pthread_barrier_init(&go, NULL, 3);
    duo d[2] = {{fn, &go, 0, 0}, {fn, &go, 0, 0}};
    pthread_t th[2];
    for (int t = 0; t < 2; t++) pthread_create(&th[t], NULL, duo_run, &d[t]);
    pthread_barrier_wait(&go);
    uint64_t t0 = bench_now_ns();
    for (int t = 0; t < 2; t++) pthread_join(th[t], NULL);
    uint64_t t1 = bench_now_ns();
    pthread_barrier_destroy(&go);
    bench_sink(&d[0].sink);
    bench_sink(&d[1].sink);
    g_two_cpu = (double)(d[0].cpu + d[1].cpu) / (2.0 * (double)C.n);
    g_two_cores = (double)(d[0].cpu + d[1].cpu) / (double)(t1 - t0);
    return (double)(t1 - t0) / (2.0 * (double)C.n);
}

/* ---- main ---------------------------------------------------------------------------------- */

/* The pass measured by --one: callgrind's --toggle-collect=measured counts
 * it alone, not the corpus loading nor the pass that fills a warm table. */
RTM_NOINLINE void measured(pass_fn fn)
{
    uint64_t sink;
    fn(&sink);
    bench_sink(&sink);
}

static int one(const char *name)
{
    static const struct {
        const char *name;
        pass_fn fn;
        void (*setup)(void), (*teardown)(void);
    } who[] = {
        {"rtmem", pass_rtmem, setup_rtmem, teardown_rtmem},
        {"tight", pass_tight, setup_tight, teardown_tight},
        {"ghash", pass_ghash, setup_ghash, teardown_ghash},
        {"quark", pass_quark, NULL, NULL},
    };
    const char *dash = strchr(name, '-');
    int warm = dash && !strcmp(dash, "-warm");
    if (!dash || (!warm && strcmp(dash, "-cold"))) goto unknown;
    for (size_t i = 0; i < sizeof who / sizeof who[0]; i++) {
        if (strncmp(name, who[i].name, (size_t)(dash - name)) || who[i].name[dash - name]) continue;
        uint64_t sink;
        if (who[i].setup) who[i].setup();
        if (warm) who[i].fn(&sink);
        measured(who[i].fn);
        if (who[i].teardown) who[i].teardown();
        printf("%s: one pass of %zu tokens\n", name, C.n);
        return 0;
    }
unknown:
    fprintf(stderr, "--one takes rtmem|tight|ghash|quark, then -cold or -warm: not %s\n", name);
    return 2;
}

static void mem_row(const char *who, size_t bytes, size_t unique, size_t string_bytes)
{
    printf("%-18s %10zu B  %6.1f B/unique  %6.1f B/unique without the strings' own bytes\n", who,
           bytes, (double)bytes / (double)unique,
           ((double)bytes - (double)string_bytes) / (double)unique);
}

/* The median of v[0..n), and of the per-round ratios v/ref. */
static double med(const double *v, int n)
{
    double c[64];
    memcpy(c, v, (size_t)n * sizeof *c);
    return bench_median(c, (size_t)n);
}

static double med_ratio(const double *v, const double *ref, int n)
{
    double c[64];
    for (int i = 0; i < n; i++) c[i] = v[i] / ref[i];
    return bench_median(c, (size_t)n);
}

static void row(const char *workload, const char *who, const double *v, const double *ref, int n)
{
    printf("%-22s %-18s %8.2f ns/token  %5.2fx\n", workload, who, med(v, n), med_ratio(v, ref, n));
}

enum { ROUNDS = 9 };

int main(int argc, char **argv)
{
    const char *only = NULL, *dir = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--one") && i + 1 < argc) only = argv[++i];
        else dir = argv[i];
    }
    corpus_load(&C, dir);
    if (only) return one(only);

    bench_print_machine(stdout);
    /* The stream's own figures, from the limit table. */
    uint64_t sink;
    setup_tight();
    pass_tight(&sink);
    size_t unique = g_tight.count, all_bytes = 0;
    size_t uniq_bytes = g_tight.used - 8 - 8 * (size_t)unique; /* len + 1 per unique */
    teardown_tight();
    for (size_t i = 0; i < C.n; i++) all_bytes += C.len[i] + 1;
    printf("corpus: %s: %zu files, %zu tokens, %zu unique, %.2f bytes/token, %.2f bytes/unique\n",
           C.origin, C.files, C.n, unique, (double)all_bytes / (double)C.n - 1,
           (double)uniq_bytes / (double)unique - 1);

    /* Memory, and bytes saved, after one pass from empty. */
    setup_rtmem();
    pass_rtmem(&sink);
    rtm_stats st;
    rtm_interner_stats(g_in, &st);
    teardown_rtmem();
    setup_tight();
    pass_tight(&sink);
    size_t tight_mem = tight_bytes(&g_tight);
    teardown_tight();
    size_t before = malloc_in_use();
    setup_ghash();
    pass_ghash(&sink);
    size_t ghash_mem = malloc_in_use() - before;
    teardown_ghash();
    before = malloc_in_use();
    double q_cold = pass_ns(pass_quark); /* quarks are process-wide: from empty only once */
    size_t quark_mem = malloc_in_use() - before;

    /* Rounds: every contender once per round, back to back, so a burst of
     * load from elsewhere hits all of them; ratios are per round. */
    double cold_t[ROUNDS], cold_r[ROUNDS], cold_g[ROUNDS];
    double warm_t[ROUNDS], warm_r[ROUNDS], warm_g[ROUNDS], warm_q[ROUNDS];
    double two_r[ROUNDS], two_rc[ROUNDS], two_q[ROUNDS], cpu_one[ROUNDS], cpu_two[ROUNDS], cores[ROUNDS];
    tight warm_tight;
    rtm_interner *warm_in;
    GHashTable *warm_ht;
    setup_tight();
    pass_tight(&sink);
    warm_tight = g_tight;
    setup_rtmem();
    pass_rtmem(&sink);
    warm_in = g_in;
    setup_ghash();
    pass_ghash(&sink);
    warm_ht = g_ht;
    for (int r = 0; r < ROUNDS; r++) {
        setup_tight();
        cold_t[r] = pass_ns(pass_tight);
        teardown_tight();
        setup_rtmem();
        cold_r[r] = pass_ns(pass_rtmem);
        teardown_rtmem();
        setup_ghash();
        cold_g[r] = pass_ns(pass_ghash);
        teardown_ghash();

        g_tight = warm_tight;
        warm_t[r] = pass_ns(pass_tight);
        g_in = warm_in;
        warm_r[r] = pass_ns(pass_rtmem);
        g_ht = warm_ht;
        warm_g[r] = pass_ns(pass_ghash);
        warm_q[r] = pass_ns(pass_quark);

        g_in = warm_in;
        cpu_one[r] = pass_cpu_ns(pass_rtmem);
        two_r[r] = two_threads(pass_rtmem);
        cpu_two[r] = g_two_cpu;
        cores[r] = g_two_cores;
        two_q[r] = two_threads(pass_quark);
        setup_rtmem();
        two_rc[r] = two_threads(pass_rtmem);
        teardown_rtmem();
    }
    g_tight = warm_tight;
    teardown_tight();
    g_in = warm_in;
    teardown_rtmem();
    g_ht = warm_ht;
    teardown_ghash();

    printf("\none thread: median ns per token over %d rounds, and the median of the per-round ratio "
           "to the limit table\n", ROUNDS);
    row("stream from empty", "limit table", cold_t, cold_t, ROUNDS);
    row("stream from empty", "rtmem", cold_r, cold_t, ROUNDS);
    row("stream from empty", "GHashTable+strdup", cold_g, cold_t, ROUNDS);
    printf("%-22s %-18s %8.2f ns/token  (one run: quarks are process-wide)\n", "stream from empty",
           "GLib quark", q_cold);
    row("stream, all hits", "limit table", warm_t, warm_t, ROUNDS);
    row("stream, all hits", "rtmem", warm_r, warm_t, ROUNDS);
    row("stream, all hits", "GHashTable+strdup", warm_g, warm_t, ROUNDS);
    row("stream, all hits", "GLib quark", warm_q, warm_t, ROUNDS);

    printf("\nmemory after the stream from empty (%zu unique; their own bytes, len + 1 each: %zu B)\n",
           unique, uniq_bytes);
    size_t rtm_bytes = st.intern_table_bytes + st.intern_string_bytes;
    mem_row("limit table", tight_mem, unique, uniq_bytes);
    mem_row("rtmem", rtm_bytes, st.intern_strings, st.intern_string_bytes);
    mem_row("GHashTable+strdup", ghash_mem, unique, uniq_bytes);
    mem_row("GLib quark", quark_mem, unique, uniq_bytes);
    printf("bytes saved against a copy per occurrence: %zu of %zu (%.1f%%); rtmem's stats: %llu\n",
           all_bytes - uniq_bytes, all_bytes,
           100.0 * (double)(all_bytes - uniq_bytes) / (double)all_bytes,
           (unsigned long long)st.intern_bytes_saved);

    printf("\ntwo threads, each the whole stream, one shared table: aggregate ns per token, and the\n"
           "throughput against one thread in the same round (median over %d rounds)\n", ROUNDS);
    printf("%-22s %-18s %8.2f ns/token  %5.2fx one thread\n", "stream, all hits", "rtmem", med(two_r, ROUNDS),
           1 / med_ratio(two_r, warm_r, ROUNDS));
    printf("%-22s %-18s %8.2f ns/token  %5.2fx one thread\n", "stream from empty", "rtmem",
           med(two_rc, ROUNDS), 1 / med_ratio(two_rc, cold_r, ROUNDS));
    printf("%-22s %-18s %8.2f ns/token  %5.2fx one thread\n", "stream, all hits", "GLib quark",
           med(two_q, ROUNDS), 1 / med_ratio(two_q, warm_q, ROUNDS));
    printf("two threads, all hits: rtmem %.2fx the throughput of GLib quarks\n",
           1 / med_ratio(two_r, two_q, ROUNDS));
    printf("rtmem, all hits: the two threads had %.2f cores between them (CPU time / wall time);\n"
           "CPU time per token of each: %.2f ns with two threads, %.2f ns alone (%.2fx): what the\n"
           "threads cost each other, whatever else the machine runs\n",
           med(cores, ROUNDS), med(cpu_two, ROUNDS), med(cpu_one, ROUNDS),
           med_ratio(cpu_two, cpu_one, ROUNDS));

    double hit_ratio = med_ratio(warm_r, warm_t, ROUNDS), cold_ratio = med_ratio(cold_r, cold_t, ROUNDS);
    double scale = 1 / med_ratio(two_r, warm_r, ROUNDS);
    double per = (double)st.intern_table_bytes / (double)st.intern_strings;
    printf("\ntargets\n");
    printf("  one thread within 1.2x of the limit, all hits: %.2fx: %s\n", hit_ratio,
           hit_ratio <= 1.2 ? "met" : "NOT met");
    printf("  (from empty, with the locked inserts: %.2fx: %s)\n", cold_ratio,
           cold_ratio <= 1.2 ? "within 1.2x" : "over 1.2x");
    printf("  two threads >= 1.7x one thread, all hits: %.2fx: %s\n", scale, scale >= 1.7 ? "met" : "NOT met");
    printf("  <= 30 B per unique string, table included, the strings' own bytes (len + 1) excluded: "
           "%.1f B: %s (%.1f B with them)\n", per, per <= 30 ? "met" : "NOT met",
           (double)rtm_bytes / (double)st.intern_strings);
    return 0;
}
