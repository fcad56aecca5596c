/* Median time of idphoto_process through the C ABI: call_overhead PHOTO SPEC N.
 * Counterpart of the Rust bench `call-overhead` (benches/src/call_overhead.rs). */
#define _POSIX_C_SOURCE 199309L
#include <idphoto.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    FILE *f;
    long n;
    unsigned char *photo;
    int runs, i;
    double *ms;
    IdphotoEngine *engine;
    if (argc < 4) return 2;
    runs = atoi(argv[3]);
    f = fopen(argv[1], "rb");
    if (!f || fseek(f, 0, SEEK_END) || (n = ftell(f)) <= 0 || fseek(f, 0, SEEK_SET)) return 2;
    photo = malloc((size_t)n);
    if (!photo || fread(photo, 1, (size_t)n, f) != (size_t)n) return 2;
    fclose(f);
    engine = idphoto_engine_new();
    ms = calloc((size_t)runs, sizeof *ms);
    if (!engine || !ms) return 2;
    for (i = -2; i < runs; i++) { /* two warm-up calls plan the networks' sizes */
        struct timespec a, b;
        IdphotoResult *out = NULL;
        clock_gettime(CLOCK_MONOTONIC, &a);
        if (idphoto_process(engine, photo, (size_t)n, argv[2], NULL, &out) != IDPHOTO_OK) {
            fprintf(stderr, "%s\n", idphoto_last_error());
            return 1;
        }
        idphoto_result_free(out);
        clock_gettime(CLOCK_MONOTONIC, &b);
        if (i >= 0) ms[i] = (b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6;
    }
    qsort(ms, (size_t)runs, sizeof *ms, cmp);
    printf("c median %.2f ms min %.2f ms of %d\n", ms[runs / 2], ms[0], runs);
    idphoto_engine_free(engine);
    free(ms);
    free(photo);
    return 0;
}
