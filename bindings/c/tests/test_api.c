/* Calls every function of the C API, every error path included; run under valgrind and
 * AddressSanitizer by tests/run.sh. test_api FIXTURE_DIR */
#include <idphoto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures = 0;

#define CHECK(cond)                                                                 \
    do {                                                                            \
        if (!(cond)) {                                                              \
            fprintf(stderr, "%s:%d: check failed: %s (last error: [%s] %s)\n",     \
                    __FILE__, __LINE__, #cond, idphoto_last_error_code(),           \
                    idphoto_last_error());                                          \
            failures++;                                                             \
        }                                                                           \
    } while (0)

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

/* a failing call: its status, *out cleared, a message and the string code */
#define EXPECT(call, want, code)                                                    \
    do {                                                                            \
        out = (IdphotoResult *)&failures; /* not NULL: the call must clear it */    \
        status = (call);                                                            \
        expect_error(status, (want), out, (code));                                  \
    } while (0)

static void expect_error(int status, int want, IdphotoResult *out, const char *code) {
    CHECK(status == want);
    CHECK(out == NULL);
    CHECK(strlen(idphoto_last_error()) > 0);
    CHECK(strcmp(idphoto_last_error_code(), code) == 0);
    if (status != want) fprintf(stderr, "  status %d, wanted %d (%s)\n", status, want, code);
}

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : "fixtures/photos";
    size_t len = 0, jpeg_len = 0;
    unsigned char *photo = read_file(dir, "obama.jpg", &len);
    unsigned char corrupt[64];
    unsigned char pixels[64 * 48 * 4];
    const unsigned char *jpeg;
    IdphotoEngine *engine;
    IdphotoResult *out, *made = NULL, *checked = NULL;
    const char bad_utf8[] = {'c', 'n', (char)0xff, 0};
    int status;

    if (!photo) {
        fprintf(stderr, "cannot read %s/obama.jpg\n", dir);
        return 2;
    }
    CHECK(strlen(idphoto_version()) > 0);
    CHECK(idphoto_abi_version() == IDPHOTO_ABI_VERSION);
    CHECK(idphoto_specs_json()[0] == '[');
    CHECK(strstr(idphoto_specs_json(), "\"cn-id-card\"") != NULL);
    CHECK(strcmp(idphoto_last_error(), "") == 0);

    engine = idphoto_engine_new();
    CHECK(engine != NULL);

    /* invalid arguments */
    EXPECT(idphoto_process(NULL, photo, len, "cn-id-card", NULL, &out), IDPHOTO_ERR_INVALID_ARGUMENT, "invalid_argument");
    EXPECT(idphoto_process(engine, NULL, len, "cn-id-card", NULL, &out), IDPHOTO_ERR_INVALID_ARGUMENT, "invalid_argument");
    CHECK(idphoto_process(engine, photo, len, "cn-id-card", NULL, NULL) == IDPHOTO_ERR_INVALID_ARGUMENT);
    EXPECT(idphoto_process(engine, photo, len, NULL, NULL, &out), IDPHOTO_ERR_INVALID_ARGUMENT, "invalid_argument");
    EXPECT(idphoto_process(engine, photo, len, bad_utf8, NULL, &out), IDPHOTO_ERR_INVALID_ARGUMENT, "invalid_argument");
    EXPECT(idphoto_process(engine, photo, (size_t)-1, "cn-id-card", NULL, &out), IDPHOTO_ERR_INVALID_ARGUMENT, "invalid_argument");
    EXPECT(idphoto_check(NULL, photo, len, "cn-id-card", &out), IDPHOTO_ERR_INVALID_ARGUMENT, "invalid_argument");
    CHECK(idphoto_check(engine, photo, len, "cn-id-card", NULL) == IDPHOTO_ERR_INVALID_ARGUMENT);

    /* the library's own errors */
    memset(corrupt, 0x5a, sizeof corrupt);
    corrupt[0] = 0xff;
    corrupt[1] = 0xd8;
    corrupt[2] = 0xff;
    EXPECT(idphoto_process(engine, corrupt, sizeof corrupt, "cn-id-card", NULL, &out), 2, "decode_failed");
    EXPECT(idphoto_check(engine, corrupt, sizeof corrupt, "cn-id-card", &out), 2, "decode_failed");
    EXPECT(idphoto_process(engine, corrupt + 8, 16, "cn-id-card", NULL, &out), 1, "unsupported_format");
    EXPECT(idphoto_process(engine, photo, len, "no-such-spec", NULL, &out), 9, "unknown_spec");
    EXPECT(idphoto_process(engine, photo, len, " { \"id\": ", NULL, &out), 10, "invalid_spec");
    EXPECT(idphoto_process(engine, photo, len, "cn-id-card", "{\"colour\": \"blue\"}", &out), 11, "invalid_option");
    EXPECT(idphoto_process(engine, photo, len, "cn-id-card", "{\"background\": \"red\"}", &out), 11, "invalid_option");
    EXPECT(idphoto_process(engine, photo, len, "cn-id-card", "[", &out), 11, "invalid_option");

    /* raw pixels: a grey frame has no face; bad strides and formats are refused */
    memset(pixels, 128, sizeof pixels);
    EXPECT(idphoto_process_pixels(engine, pixels, 64, 48, 64 * 4, IDPHOTO_PIXEL_BGRA,
                                        "cn-id-card", NULL, &out), 5, "no_face");
    EXPECT(idphoto_process_pixels(engine, pixels, 64, 48, 64 * 3, IDPHOTO_PIXEL_RGBA,
                                        "cn-id-card", NULL, &out), 15, "invalid_image");
    EXPECT(idphoto_process_pixels(engine, pixels, 64, 48, 64 * 3, 7, "cn-id-card", NULL, &out), IDPHOTO_ERR_INVALID_ARGUMENT, "invalid_argument");
    EXPECT(idphoto_process_pixels(engine, pixels, 64, 0, 64 * 3, IDPHOTO_PIXEL_RGB,
                                        "cn-id-card", NULL, &out), IDPHOTO_ERR_INVALID_ARGUMENT, "invalid_argument");
    EXPECT(idphoto_process_pixels(engine, NULL, 64, 48, 64 * 3, IDPHOTO_PIXEL_RGB,
                                        "cn-id-card", NULL, &out), IDPHOTO_ERR_INVALID_ARGUMENT, "invalid_argument");

    /* a photo made and checked; the engine still works after the errors above */
    status = idphoto_process(engine, photo, len, "cn-id-card", "{\"background\": \"white\"}", &made);
    CHECK(status == IDPHOTO_OK);
    CHECK(made != NULL);
    CHECK(strcmp(idphoto_last_error(), "") == 0);
    jpeg = idphoto_result_image(made, &jpeg_len);
    CHECK(jpeg != NULL && jpeg_len > 1000 && jpeg[0] == 0xff && jpeg[1] == 0xd8);
    CHECK(idphoto_result_width(made) == 358 && idphoto_result_height(made) == 441);
    CHECK(strstr(idphoto_result_report_json(made), "\"spec_id\": \"cn-id-card\"") != NULL);
    CHECK(idphoto_result_passed(made) == 1);
    status = idphoto_check(engine, jpeg, jpeg_len, "cn-id-card", &checked);
    CHECK(status == IDPHOTO_OK);
    CHECK(idphoto_result_image(checked, &len) == NULL && len == 0);
    CHECK(idphoto_result_width(checked) == 358 && idphoto_result_height(checked) == 441);
    CHECK(idphoto_result_passed(checked) == 1);
    CHECK(strstr(idphoto_result_report_json(checked), "\"rules\"") != NULL);

    /* NULL results and handles */
    CHECK(idphoto_result_image(NULL, &len) == NULL && len == 0);
    CHECK(idphoto_result_image(made, NULL) == jpeg);
    CHECK(idphoto_result_report_json(NULL) == NULL);
    CHECK(idphoto_result_width(NULL) == 0 && idphoto_result_height(NULL) == 0);
    CHECK(idphoto_result_passed(NULL) == 0);
    idphoto_result_free(NULL);
    idphoto_engine_free(NULL);

    idphoto_result_free(checked);
    idphoto_result_free(made);
    idphoto_engine_free(engine);
    free(photo);
    if (failures) {
        fprintf(stderr, "%d checks failed\n", failures);
        return 1;
    }
    printf("test_api: all checks passed\n");
    return 0;
}
