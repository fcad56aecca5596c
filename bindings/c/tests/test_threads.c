/* Four threads share one engine and process 40 photos; every output must equal, byte for
 * byte, the one made on a single thread. test_threads FIXTURE_DIR */
#include <idphoto.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define THREADS 4
#define PER_THREAD 10
#define PHOTOS 3
#define SPECS 2

static const char *photo_names[PHOTOS] = {"obama.jpg", "biden.jpg", "obama2.jpg"};
static const char *specs[SPECS] = {"cn-id-card", "us-visa"};
static unsigned char *photos[PHOTOS];
static size_t photo_len[PHOTOS];
static unsigned char *single[PHOTOS * SPECS];
static size_t single_len[PHOTOS * SPECS];
static IdphotoEngine *engine;

static unsigned char *read_file(const char *dir, const char *name, size_t *len) {
    char path[4096];
    FILE *f;
    unsigned char *buf = NULL;
    long n;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    f = fopen(path, "rb");
    if (!f) return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0) {
        buf = malloc((size_t)n);
        if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
            free(buf);
            buf = NULL;
        }
        *len = (size_t)n;
    }
    fclose(f);
    return buf;
}

/* makes job j (photo j / SPECS, spec j % SPECS); 0 when it equals the single-thread output */
static int run_job(int j, int compare) {
    IdphotoResult *out = NULL;
    size_t len = 0;
    const unsigned char *jpeg;
    int p = j / SPECS, s = j % SPECS, bad = 0;
    if (idphoto_process(engine, photos[p], photo_len[p], specs[s], NULL, &out) != IDPHOTO_OK) {
        fprintf(stderr, "job %d: %s\n", j, idphoto_last_error());
        return 1;
    }
    jpeg = idphoto_result_image(out, &len);
    if (!compare) {
        single[j] = malloc(len);
        memcpy(single[j], jpeg, len);
        single_len[j] = len;
    } else if (len != single_len[j] || memcmp(jpeg, single[j], len) != 0) {
        fprintf(stderr, "job %d (%s, %s): output differs from the single-thread run\n", j,
                photo_names[p], specs[s]);
        bad = 1;
    }
    idphoto_result_free(out);
    return bad;
}

static void *worker(void *arg) {
    int t = (int)(size_t)arg, k, bad = 0;
    for (k = 0; k < PER_THREAD; k++) bad += run_job((t + k * THREADS) % (PHOTOS * SPECS), 1);
    return (void *)(size_t)bad;
}

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : "fixtures/photos";
    pthread_t threads[THREADS];
    int i, bad = 0;
    for (i = 0; i < PHOTOS; i++) {
        photos[i] = read_file(dir, photo_names[i], &photo_len[i]);
        if (!photos[i]) {
            fprintf(stderr, "cannot read %s/%s\n", dir, photo_names[i]);
            return 2;
        }
    }
    engine = idphoto_engine_new();
    if (!engine) {
        fprintf(stderr, "engine: %s\n", idphoto_last_error());
        return 2;
    }
    for (i = 0; i < PHOTOS * SPECS; i++) bad += run_job(i, 0);
    for (i = 0; i < THREADS; i++) pthread_create(&threads[i], NULL, worker, (void *)(size_t)i);
    for (i = 0; i < THREADS; i++) {
        void *r;
        pthread_join(threads[i], &r);
        bad += (int)(size_t)r;
    }
    idphoto_engine_free(engine);
    for (i = 0; i < PHOTOS * SPECS; i++) free(single[i]);
    for (i = 0; i < PHOTOS; i++) free(photos[i]);
    if (bad) {
        fprintf(stderr, "test_threads: %d outputs differ or failed\n", bad);
        return 1;
    }
    printf("test_threads: %d photos on %d threads, identical to the single-thread outputs\n",
           THREADS * PER_THREAD, THREADS);
    return 0;
}
