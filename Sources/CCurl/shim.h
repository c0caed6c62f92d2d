#ifndef UCWA_EVENTD_CCURL_SHIM_H
#define UCWA_EVENTD_CCURL_SHIM_H
// libcurl for Swift: curl_easy_setopt, curl_easy_getinfo and curl_multi_setopt are variadic C
// macros/functions that Swift cannot call, so each argument type gets a typed static inline
// wrapper here. Only the CurlHTTP target uses this module.
#include <curl/curl.h>

static inline CURLcode ucwa_curl_easy_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode ucwa_curl_easy_setopt_string(CURL *handle, CURLoption option, const char *value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode ucwa_curl_easy_setopt_pointer(CURL *handle, CURLoption option, void *value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode ucwa_curl_easy_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode ucwa_curl_easy_setopt_off_t(CURL *handle, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(handle, option, value);
}
typedef size_t (*ucwa_curl_write_callback)(char *data, size_t size, size_t count, void *context);
static inline CURLcode ucwa_curl_easy_setopt_write_function(CURL *handle, CURLoption option, ucwa_curl_write_callback value) {
    return curl_easy_setopt(handle, option, value);
}
/// CURLOPT_HEADERFUNCTION takes the same callback type as CURLOPT_WRITEFUNCTION.
static inline CURLcode ucwa_curl_easy_setopt_header_function(CURL *handle, ucwa_curl_write_callback value) {
    return curl_easy_setopt(handle, CURLOPT_HEADERFUNCTION, value);
}
static inline CURLcode ucwa_curl_easy_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return curl_easy_getinfo(handle, info, value);
}
static inline CURLcode ucwa_curl_easy_getinfo_string(CURL *handle, CURLINFO info, char **value) {
    return curl_easy_getinfo(handle, info, value);
}
static inline CURLMcode ucwa_curl_multi_setopt_long(CURLM *handle, CURLMoption option, long value) {
    return curl_multi_setopt(handle, option, value);
}
/// curl_easy_pause's bit masks (function-like macros Swift does not import).
static inline CURLcode ucwa_curl_pause_receiving(CURL *handle) {
    return curl_easy_pause(handle, CURLPAUSE_RECV);
}
static inline CURLcode ucwa_curl_continue(CURL *handle) {
    return curl_easy_pause(handle, CURLPAUSE_CONT);
}
/// curl_version_info for the headers' own CURLVERSION_NOW (a macro Swift cannot see).
static inline curl_version_info_data *ucwa_curl_version_info(void) {
    return curl_version_info(CURLVERSION_NOW);
}
#endif
