/* The floor under "one GET at a time", for `make bench`: the least a client can do per GET
 * against the simulator — one libcurl easy handle, kept alive, the same resource fetched N
 * times one after the other, the body thrown away. No parsing, no records, no threads.
 *
 *     get_floor URL AUTHORIZATION-HEADER COUNT
 *
 * Prints "gets=N seconds=S". The bench passes the header in argv: a throwaway token of the
 * simulator, never a real credential. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static size_t discard(char *data, size_t size, size_t count, void *context) {
    (void)data;
    (void)context;
    return size * count;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: get_floor URL AUTHORIZATION-HEADER COUNT\n");
        return 64;
    }
    int count = atoi(argv[3]);
    CURL *easy = curl_easy_init();
    struct curl_slist *headers = curl_slist_append(NULL, argv[2]);
    headers = curl_slist_append(headers, "Accept: application/json");
    curl_easy_setopt(easy, CURLOPT_URL, argv[1]);
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, discard);
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (int i = 0; i < count; i++) {
        long status = 0;
        CURLcode code = curl_easy_perform(easy);
        curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
        if (code != CURLE_OK || status != 200) {
            fprintf(stderr, "get_floor: GET %d: %s, HTTP %ld\n", i, curl_easy_strerror(code), status);
            return 1;
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &end);
    printf("gets=%d seconds=%.6f\n", count, (end.tv_sec - start.tv_sec) + (end.tv_nsec - start.tv_nsec) / 1e9);
    curl_slist_free_all(headers);
    curl_easy_cleanup(easy);
    return 0;
}
