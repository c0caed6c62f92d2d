// The simdjson On-Demand baseline for `make bench`: the same work as our decoder's full event
// model — walk the senders and their events and touch every field the model decodes — on whole
// documents in memory (On-Demand cannot take a document in pieces).
//
//   simdjson_driver corpus FILE PASSES   length-prefixed batches (see bench.py), in memory
//   simdjson_driver whole FILE           one batch, loaded whole from disk
//
// Output as yajl_driver.c: bytes, events, check (sender href + link href + status + reason code
// + embedded invitation subject, unescaped UTF-8 bytes), seconds per pass, peak RSS. Keys are
// compared unescaped, in whatever order they come, as our decoder does.
#include <simdjson.h>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string_view>
#include <vector>

using namespace simdjson;

struct Totals {
    uint64_t events = 0, touched = 0, check = 0;
};

static bool is_invitation(std::string_view rel) {
    return rel.size() > 10 && rel.substr(rel.size() - 10) == "Invitation";
}

static size_t touch_string(ondemand::value value, Totals &totals) {
    std::string_view text = value.get_string();
    totals.touched += text.size();
    return text.size();
}

static void walk_invitation(ondemand::object resource, Totals &totals, size_t &subject) {
    for (auto field : resource) {
        std::string_view key = field.unescaped_key();
        if (key == "subject") {
            subject = touch_string(field.value(), totals);
        } else if (key == "direction" || key == "importance" || key == "operationId" || key == "state" ||
                   key == "threadId" || key == "to") {
            touch_string(field.value(), totals);
        } else if (key == "_links") {
            for (auto link : field.value().get_object()) {
                std::string_view name = link.unescaped_key();
                if (name != "conversation" && name != "from") continue;
                for (auto member : link.value().get_object()) {
                    std::string_view m = member.unescaped_key();
                    if ((name == "conversation" && m == "href") || (name == "from" && m == "title")) {
                        touch_string(member.value(), totals);
                    }
                }
            }
        } else if (key == "_embedded") {
            for (auto embedded : field.value().get_object()) {
                if (embedded.unescaped_key().value() != "from") continue;
                for (auto member : embedded.value().get_object()) {
                    std::string_view m = member.unescaped_key();
                    if (m == "name" || m == "uri") touch_string(member.value(), totals);
                }
            }
        }
    }
}

static void walk_event(ondemand::object event, Totals &totals, size_t sender_href) {
    size_t link_href = 0, status = 0, code = 0, subject = 0;
    bool invitation = false;
    for (auto field : event) {
        std::string_view key = field.unescaped_key();
        if (key == "link") {
            for (auto member : field.value().get_object()) {
                std::string_view m = member.unescaped_key();
                if (m == "rel") {
                    std::string_view rel = member.value().get_string();
                    totals.touched += rel.size();
                    invitation = is_invitation(rel);
                } else if (m == "href") {
                    link_href = touch_string(member.value(), totals);
                } else if (m == "title") {
                    touch_string(member.value(), totals);
                }
            }
        } else if (key == "in") {
            for (auto member : field.value().get_object()) {
                std::string_view m = member.unescaped_key();
                if (m == "rel" || m == "href") touch_string(member.value(), totals);
            }
        } else if (key == "type") {
            touch_string(field.value(), totals);
        } else if (key == "status") {
            status = touch_string(field.value(), totals);
        } else if (key == "reason") {
            for (auto member : field.value().get_object()) {
                std::string_view m = member.unescaped_key();
                if (m == "code") code = touch_string(member.value(), totals);
                else if (m == "subcode" || m == "message") touch_string(member.value(), totals);
            }
        } else if (key == "_embedded" && invitation) {
            // The generator embeds the resource under the link's rel, after the link.
            for (auto embedded : field.value().get_object()) {
                walk_invitation(embedded.value().get_object(), totals, subject);
            }
        }
    }
    totals.events++;
    totals.check += sender_href + link_href + status + code + subject;
}

static void walk_batch(ondemand::document &doc, Totals &totals) {
    for (auto field : doc.get_object()) {
        std::string_view key = field.unescaped_key();
        if (key == "_links") {
            for (auto link : field.value().get_object()) {
                if (link.unescaped_key().value() != "next") continue;
                for (auto member : link.value().get_object()) {
                    if (member.unescaped_key().value() == "href") touch_string(member.value(), totals);
                }
            }
        } else if (key == "sender") {
            for (auto sender_value : field.value().get_array()) {
                ondemand::object sender = sender_value.get_object();
                size_t sender_href = 0;
                for (auto member : sender) {
                    std::string_view m = member.unescaped_key();
                    if (m == "rel") {
                        touch_string(member.value(), totals);
                    } else if (m == "href") {
                        sender_href = touch_string(member.value(), totals);
                    } else if (m == "events") {
                        for (auto event : member.value().get_array()) walk_event(event.get_object(), totals, sender_href);
                    }
                }
            }
        }
    }
}

static double now() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// The process's own high-water mark (VmHWM), not ru_maxrss, which carries over the parent's
// peak across fork and exec.
static long peak_rss_kib() {
    FILE *status = std::fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;
    while (status && std::fgets(line, sizeof line, status)) {
        if (std::sscanf(line, "VmHWM: %ld kB", &kib) == 1) break;
    }
    if (status) std::fclose(status);
    return kib;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: simdjson_driver corpus|whole FILE [PASSES]\n");
        return 2;
    }
    Totals totals;
    uint64_t bytes = 0;
    std::vector<double> seconds;
    try {
        ondemand::parser parser;
        if (std::strcmp(argv[1], "corpus") == 0) {
            int passes = argc > 3 ? std::atoi(argv[3]) : 1;
            // The corpus file ends in SIMDJSON_PADDING zero bytes, so every batch inside it can be
            // parsed in place: the bytes after it (the next length prefix and batch) are its padding.
            padded_string corpus = padded_string::load(argv[2]);
            const char *data = corpus.data();
            size_t size = corpus.size();
            for (int pass = 0; pass < passes; pass++) {
                totals = Totals();
                bytes = 0;
                double start = now();
                for (size_t offset = 0; offset + 4 <= size;) {
                    uint32_t length;
                    std::memcpy(&length, data + offset, 4);
                    if (length == 0) break;
                    offset += 4;
                    padded_string_view view(data + offset, length, size + SIMDJSON_PADDING - offset);
                    ondemand::document doc = parser.iterate(view);
                    walk_batch(doc, totals);
                    bytes += length;
                    offset += length;
                }
                seconds.push_back(now() - start);
            }
        } else {
            double start = now();
            padded_string whole = padded_string::load(argv[2]);
            ondemand::parser big(whole.size());
            ondemand::document doc = big.iterate(whole);
            walk_batch(doc, totals);
            bytes = whole.size();
            seconds.push_back(now() - start);
        }
    } catch (simdjson_error &error) {
        std::fprintf(stderr, "simdjson_driver: %s\n", error.what());
        return 1;
    }
    std::printf("{\"seconds\":[");
    for (size_t i = 0; i < seconds.size(); i++) std::printf("%s%.6f", i ? "," : "", seconds[i]);
    std::printf("],\"bytes\":%llu,\"events\":%llu,\"check\":%llu,\"touched\":%llu,\"peak_rss_kib\":%ld}\n",
                (unsigned long long)bytes, (unsigned long long)totals.events, (unsigned long long)totals.check,
                (unsigned long long)totals.touched, peak_rss_kib());
    return 0;
}
