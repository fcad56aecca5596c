/* Makes an ID photo: make_id_photo IN.jpg OUT.jpg [SPEC [OPTIONS_JSON]].
 * SPEC is a preset id (default cn-id-card) or a JSON spec document. Exit 0 when the photo was
 * made and complies, 1 when it was made but does not comply, 2 on an error. */
#include <idphoto.h>
#include <stdio.h>
#include <stdlib.h>

static unsigned char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    unsigned char *buf = NULL;
    long n;
    if (!f) return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
        buf = malloc(n > 0 ? (size_t)n : 1);
        if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
            free(buf);
            buf = NULL;
        }
        *len = (size_t)n;
    }
    fclose(f);
    return buf;
}

/* writes to OUT.tmp, then renames: an error never leaves a truncated OUT */
static int write_file(const char *path, const unsigned char *data, size_t len) {
    char tmp[4096];
    FILE *f;
    int ok;
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp) return 0;
    f = fopen(tmp, "wb");
    if (!f) return 0;
    ok = fwrite(data, 1, len, f) == len;
    ok = (fclose(f) == 0) && ok;
    if (ok) ok = rename(tmp, path) == 0;
    if (!ok) remove(tmp);
    return ok;
}

int main(int argc, char **argv) {
    const char *spec = argc > 3 ? argv[3] : "cn-id-card";
    const char *options = argc > 4 ? argv[4] : NULL;
    size_t len = 0, jpeg_len = 0;
    unsigned char *photo;
    const unsigned char *jpeg;
    IdphotoEngine *engine;
    IdphotoResult *result = NULL;
    int status, passed;

    if (argc < 3) {
        fprintf(stderr, "usage: %s IN OUT [SPEC [OPTIONS_JSON]]\n", argv[0]);
        return 2;
    }
    photo = read_file(argv[1], &len);
    if (!photo) {
        fprintf(stderr, "cannot read %s\n", argv[1]);
        return 2;
    }
    engine = idphoto_engine_new();
    if (!engine) {
        fprintf(stderr, "error: %s\n", idphoto_last_error());
        free(photo);
        return 2;
    }
    status = idphoto_process(engine, photo, len, spec, options, &result);
    free(photo);
    if (status != IDPHOTO_OK) {
        fprintf(stderr, "error[%s] (%d): %s\n", idphoto_last_error_code(), status, idphoto_last_error());
        idphoto_engine_free(engine);
        return 2;
    }
    jpeg = idphoto_result_image(result, &jpeg_len);
    passed = idphoto_result_passed(result);
    if (!write_file(argv[2], jpeg, jpeg_len)) {
        fprintf(stderr, "cannot write %s\n", argv[2]);
        passed = -1;
    } else {
        printf("%s: %ux%u px, %zu bytes, %s\n", argv[2], idphoto_result_width(result),
               idphoto_result_height(result), jpeg_len, passed ? "PASS" : "FAIL");
    }
    idphoto_result_free(result);
    idphoto_engine_free(engine);
    return passed < 0 ? 2 : (passed ? 0 : 1);
}
