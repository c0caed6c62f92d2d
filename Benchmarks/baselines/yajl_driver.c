// The yajl 2 baseline for `make bench`: the same work as our decoder's full event model — walk
// the senders and their events and touch every field the model decodes — with yajl's streaming
// callback parser, fed in the same chunk sizes.
//
//   yajl_driver corpus FILE CHUNK PASSES   length-prefixed batches (see bench.py), in memory
//   yajl_driver stream FILE CHUNK          one batch streamed from disk in 64 KiB reads
//
// Prints one JSON object: bytes, events, check (the cross-driver checksum: UTF-8 bytes of each
// event's sender href, link href, status, reason code and embedded invitation subject, all
// unescaped), seconds per pass and peak RSS. Touching a field means adding its length to a
// second checksum, so the compiler cannot drop the work.
#include <yajl/yajl_parse.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

// Keys that matter on the path to a field; anything else is K_OTHER.
enum key {
    K_NONE, K_OTHER, K_SENDER, K_EVENTS, K_REL, K_HREF, K_LINK, K_IN, K_TYPE, K_STATUS, K_REASON,
    K_CODE, K_SUBCODE, K_MESSAGE, K_TITLE, K_EMBEDDED, K_LINKS, K_NEXT, K_DIRECTION, K_IMPORTANCE,
    K_OPERATIONID, K_STATE, K_SUBJECT, K_THREADID, K_TO, K_CONVERSATION, K_FROM, K_NAME, K_URI,
};

static enum key intern(const unsigned char *s, size_t n) {
#define IS(lit) (n == sizeof(lit) - 1 && memcmp(s, lit, n) == 0)
    switch (n) {
    case 2: if (IS("in")) return K_IN; if (IS("to")) return K_TO; break;
    case 3: if (IS("rel")) return K_REL; if (IS("uri")) return K_URI; break;
    case 4: if (IS("href")) return K_HREF; if (IS("link")) return K_LINK; if (IS("type")) return K_TYPE;
            if (IS("code")) return K_CODE; if (IS("next")) return K_NEXT; if (IS("from")) return K_FROM;
            if (IS("name")) return K_NAME; break;
    case 5: if (IS("title")) return K_TITLE; if (IS("state")) return K_STATE; break;
    case 6: if (IS("sender")) return K_SENDER; if (IS("events")) return K_EVENTS; if (IS("status")) return K_STATUS;
            if (IS("reason")) return K_REASON; if (IS("_links")) return K_LINKS; break;
    case 7: if (IS("subcode")) return K_SUBCODE; if (IS("message")) return K_MESSAGE; if (IS("subject")) return K_SUBJECT; break;
    case 8: if (IS("threadId")) return K_THREADID; break;
    case 9: if (IS("_embedded")) return K_EMBEDDED; if (IS("direction")) return K_DIRECTION; break;
    case 10: if (IS("importance")) return K_IMPORTANCE; break;
    case 11: if (IS("operationId")) return K_OPERATIONID; break;
    case 12: if (IS("conversation")) return K_CONVERSATION; break;
    }
    return K_OTHER;
#undef IS
}

#define MAX_DEPTH 64
struct state {
    // keys[d]: the key under which the value at depth d+1 sits (K_NONE inside arrays).
    enum key keys[MAX_DEPTH + 1];
    int depth;
    uint64_t events, touched, check;
    // The current event's fields for the checksum.
    size_t sender_href, link_href, status, code, subject;
    int link_is_invitation, embedded_matches;
};

static int ends_with_invitation(const unsigned char *s, size_t n) {
    return n > 10 && memcmp(s + n - 10, "Invitation", 10) == 0;
}

// Paths (depth counts containers): root object = 1, sender array = 2, sender object = 3,
// events array = 4, event object = 5.
static int on_string(void *ctx, const unsigned char *s, size_t n) {
    struct state *st = ctx;
    enum key *k = st->keys;
    int d = st->depth;
    if (d == 3 && k[0] == K_LINKS && k[1] == K_NEXT && k[2] == K_HREF) { st->touched += n; return 1; }
    if (d < 3 || k[0] != K_SENDER) return 1;
    if (d == 3) {
        if (k[2] == K_REL) st->touched += n;
        else if (k[2] == K_HREF) { st->touched += n; st->sender_href = n; }
        return 1;
    }
    if (d < 5 || k[2] != K_EVENTS) return 1;
    if (d == 5) {
        if (k[4] == K_TYPE) st->touched += n;
        else if (k[4] == K_STATUS) { st->touched += n; st->status = n; }
        return 1;
    }
    if (d == 6) {
        if (k[4] == K_LINK) {
            if (k[5] == K_REL) { st->touched += n; st->link_is_invitation = ends_with_invitation(s, n); }
            else if (k[5] == K_HREF) { st->touched += n; st->link_href = n; }
            else if (k[5] == K_TITLE) st->touched += n;
        } else if (k[4] == K_IN) {
            if (k[5] == K_REL || k[5] == K_HREF) st->touched += n;
        } else if (k[4] == K_REASON) {
            if (k[5] == K_CODE) { st->touched += n; st->code = n; }
            else if (k[5] == K_SUBCODE || k[5] == K_MESSAGE) st->touched += n;
        }
        return 1;
    }
    if (k[4] != K_EMBEDDED || !st->link_is_invitation) return 1;
    // _embedded.<rel>.field (the rel key is checked against the link by the corpus's shape:
    // the generator always embeds under the link's rel).
    if (d == 7) {
        switch (k[6]) {
        case K_SUBJECT: st->subject = n; /* fallthrough */
        case K_DIRECTION: case K_IMPORTANCE: case K_OPERATIONID: case K_STATE: case K_THREADID: case K_TO:
            st->touched += n; break;
        default: break;
        }
    } else if (d == 9 && k[6] == K_LINKS) {
        if ((k[7] == K_CONVERSATION && k[8] == K_HREF) || (k[7] == K_FROM && k[8] == K_TITLE)) st->touched += n;
    } else if (d == 9 && k[6] == K_EMBEDDED && k[7] == K_FROM) {
        if (k[8] == K_NAME || k[8] == K_URI) st->touched += n;
    }
    return 1;
}

static int on_map_key(void *ctx, const unsigned char *s, size_t n) {
    struct state *st = ctx;
    st->keys[st->depth - 1] = intern(s, n);
    return 1;
}

static int on_start_map(void *ctx) {
    struct state *st = ctx;
    if (st->depth >= MAX_DEPTH) return 0;
    st->keys[st->depth++] = K_NONE;
    if (st->depth == 5 && st->keys[0] == K_SENDER && st->keys[2] == K_EVENTS) {
        st->link_href = st->status = st->code = st->subject = 0;
        st->link_is_invitation = 0;
    }
    return 1;
}

static int on_end_map(void *ctx) {
    struct state *st = ctx;
    if (st->depth == 5 && st->keys[0] == K_SENDER && st->keys[2] == K_EVENTS) {
        st->events++;
        st->check += st->sender_href + st->link_href + st->status + st->code + st->subject;
    }
    st->depth--;
    return 1;
}

static int on_start_array(void *ctx) {
    struct state *st = ctx;
    if (st->depth >= MAX_DEPTH) return 0;
    st->keys[st->depth++] = K_NONE;
    return 1;
}

static int on_end_array(void *ctx) {
    struct state *st = ctx;
    st->depth--;
    return 1;
}

static int on_null(void *ctx) { (void)ctx; return 1; }
static int on_bool(void *ctx, int b) { (void)ctx; (void)b; return 1; }
static int on_number(void *ctx, const char *s, size_t n) { (void)ctx; (void)s; (void)n; return 1; }

static const yajl_callbacks callbacks = {
    on_null, on_bool, NULL, NULL, on_number, on_string,
    on_start_map, on_map_key, on_end_map, on_start_array, on_end_array,
};

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void fail(yajl_handle h, const unsigned char *text, size_t n) {
    unsigned char *message = yajl_get_error(h, 1, text, n);
    fprintf(stderr, "yajl_driver: %s\n", message);
    exit(1);
}

static void feed(yajl_handle h, const unsigned char *p, size_t n, size_t chunk) {
    for (size_t offset = 0; offset < n; offset += chunk) {
        size_t piece = n - offset < chunk ? n - offset : chunk;
        if (yajl_parse(h, p + offset, piece) != yajl_status_ok) fail(h, p + offset, piece);
    }
}

static unsigned char *read_file(const char *path, size_t *size) {
    int fd = open(path, O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) { perror(path); exit(1); }
    unsigned char *buffer = malloc((size_t)st.st_size + 64);
    size_t done = 0;
    while (done < (size_t)st.st_size) {
        ssize_t n = read(fd, buffer + done, (size_t)st.st_size - done);
        if (n <= 0) { perror(path); exit(1); }
        done += (size_t)n;
    }
    close(fd);
    *size = done;
    return buffer;
}

// The process's own high-water mark (VmHWM): unlike getrusage's ru_maxrss it does not carry
// over the parent's peak across fork and exec.
static long peak_rss_kib(void) {
    FILE *status = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;
    while (status && fgets(line, sizeof line, status)) {
        if (sscanf(line, "VmHWM: %ld kB", &kib) == 1) break;
    }
    if (status) fclose(status);
    return kib;
}

int main(int argc, char **argv) {
    if (argc < 4) { fprintf(stderr, "usage: yajl_driver corpus|stream FILE CHUNK [PASSES]\n"); return 2; }
    size_t chunk = strtoul(argv[3], NULL, 10);
    struct state st;
    uint64_t bytes = 0;
    if (strcmp(argv[1], "corpus") == 0) {
        int passes = argc > 4 ? atoi(argv[4]) : 1;
        size_t size;
        unsigned char *corpus = read_file(argv[2], &size);
        printf("{\"seconds\":[");
        for (int pass = 0; pass < passes; pass++) {
            memset(&st, 0, sizeof st);
            bytes = 0;
            double start = now();
            for (size_t offset = 0; offset + 4 <= size;) {
                uint32_t length;
                memcpy(&length, corpus + offset, 4);
                if (length == 0) break;
                offset += 4;
                yajl_handle h = yajl_alloc(&callbacks, NULL, &st);
                feed(h, corpus + offset, length, chunk);
                if (yajl_complete_parse(h) != yajl_status_ok) fail(h, corpus + offset, length);
                yajl_free(h);
                bytes += length;
                offset += length;
            }
            printf("%s%.6f", pass ? "," : "", now() - start);
        }
        free(corpus);
    } else {
        memset(&st, 0, sizeof st);
        int fd = open(argv[2], O_RDONLY);
        if (fd < 0) { perror(argv[2]); return 1; }
        static unsigned char buffer[64 << 10];
        yajl_handle h = yajl_alloc(&callbacks, NULL, &st);
        printf("{\"seconds\":[");
        double start = now();
        for (;;) {
            ssize_t n = read(fd, buffer, sizeof buffer);
            if (n < 0) { perror(argv[2]); return 1; }
            if (n == 0) break;
            bytes += (uint64_t)n;
            feed(h, buffer, (size_t)n, chunk);
        }
        if (yajl_complete_parse(h) != yajl_status_ok) fail(h, buffer, 0);
        printf("%.6f", now() - start);
        yajl_free(h);
        close(fd);
    }
    printf("],\"bytes\":%llu,\"events\":%llu,\"check\":%llu,\"touched\":%llu,\"peak_rss_kib\":%ld}\n",
           (unsigned long long)bytes, (unsigned long long)st.events, (unsigned long long)st.check,
           (unsigned long long)st.touched, peak_rss_kib());
    return 0;
}
