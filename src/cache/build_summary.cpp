#include "cache/build_summary.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <charconv>
#include <system_error>

#include "base/atomic_file.hpp"
#include "base/error.hpp"
#include "store/image_store_io.hpp"

namespace strata::cache {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kMagic = "strata-build-summary 1";

void put_field(std::string& out, std::string_view s) {
    out += '\t';
    for (char c : s) {
        switch (c) {
            case '\\':
                out += "\\\\";
                break;
            case '\t':
                out += "\\t";
                break;
            case '\n':
                out += "\\n";
                break;
            default:
                out += c;
        }
    }
}

std::optional<std::string> unescape(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '\\') {
            out += s[i];
            continue;
        }
        if (++i == s.size()) return std::nullopt;
        switch (s[i]) {
            case '\\':
                out += '\\';
                break;
            case 't':
                out += '\t';
                break;
            case 'n':
                out += '\n';
                break;
            default:
                return std::nullopt;
        }
    }
    return out;
}

template <typename T>
bool to_number(std::string_view s, T& v) {
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    return ec == std::errc() && p == s.data() + s.size() && !s.empty();
}

// Splits one line at tabs and unescapes each field.
std::optional<std::vector<std::string>> fields_of(std::string_view line) {
    std::vector<std::string> out;
    size_t pos = 0;
    for (;;) {
        const size_t tab = line.find('\t', pos);
        auto f = unescape(line.substr(pos, tab == std::string_view::npos ? tab : tab - pos));
        if (!f) return std::nullopt;
        out.push_back(std::move(*f));
        if (tab == std::string_view::npos) return out;
        pos = tab + 1;
    }
}

}  // namespace

std::string BuildSummary::serialize() const {
    std::string out(kMagic);
    out += '\n';
    auto line = [&](std::string_view tag, std::initializer_list<std::string_view> fields) {
        out += tag;
        for (auto f : fields)
            put_field(out, f);
        out += '\n';
    };
    line("inputs", {inputs});
    line("generation", {std::to_string(generation)});
    line("image", {image});
    if (context) line("context", {*context});
    if (source_date_epoch) line("epoch", {std::to_string(*source_date_epoch)});
    for (const auto& b : bases)
        line("base", {b.ref, b.digest});
    for (const auto& s : stages)
        line("stage", {std::to_string(s.index), s.from_display});
    for (const auto& s : steps)
        line("step", {std::to_string(s.stage), std::to_string(s.step), s.metadata ? "m" : "c",
                      s.name, s.instruction, s.key});
    out += "end\n";  // a file cut short has no end line
    return out;
}

std::optional<BuildSummary> BuildSummary::parse(std::string_view text) {
    if (!text.starts_with(kMagic) || text.size() <= kMagic.size() || text[kMagic.size()] != '\n')
        return std::nullopt;
    BuildSummary s;
    bool ended = false, has_generation = false;
    size_t pos = kMagic.size() + 1;
    while (pos < text.size()) {
        size_t nl = text.find('\n', pos);
        if (nl == std::string_view::npos) return std::nullopt;
        const std::string_view line = text.substr(pos, nl - pos);
        pos = nl + 1;
        if (ended) return std::nullopt;
        if (line == "end") {
            ended = true;
            continue;
        }
        auto f = fields_of(line);
        if (!f || f->empty()) return std::nullopt;
        const std::string& tag = (*f)[0];
        const size_t n = f->size() - 1;
        auto& v = *f;
        if (tag == "inputs" && n == 1) {
            s.inputs = v[1];
        } else if (tag == "generation" && n == 1) {
            if (!to_number(v[1], s.generation)) return std::nullopt;
            has_generation = true;
        } else if (tag == "image" && n == 1) {
            s.image = v[1];
        } else if (tag == "context" && n == 1) {
            s.context = v[1];
        } else if (tag == "epoch" && n == 1) {
            int64_t e = 0;
            if (!to_number(v[1], e)) return std::nullopt;
            s.source_date_epoch = e;
        } else if (tag == "base" && n == 2) {
            s.bases.push_back({v[1], v[2]});
        } else if (tag == "stage" && n == 2) {
            SummaryStage st;
            if (!to_number(v[1], st.index)) return std::nullopt;
            st.from_display = v[2];
            s.stages.push_back(std::move(st));
        } else if (tag == "step" && n == 6) {
            SummaryStep st;
            if (!to_number(v[1], st.stage) || !to_number(v[2], st.step)) return std::nullopt;
            if (v[3] != "m" && v[3] != "c") return std::nullopt;
            st.metadata = v[3] == "m";
            st.name = v[4];
            st.instruction = v[5];
            st.key = v[6];
            s.steps.push_back(std::move(st));
        } else {
            return std::nullopt;
        }
    }
    if (!ended || !has_generation || s.inputs.empty() || s.image.empty()) return std::nullopt;
    return s;
}

BuildSummaries::BuildSummaries(fs::path cache_dir) : dir_(std::move(cache_dir) / "builds") {}

std::optional<BuildSummary> BuildSummaries::load(const std::string& id) const {
    std::optional<std::string> text;
    try {
        text = store::read_file_if_exists(dir_ / (id + ".summary"));
    } catch (const Error&) {
        return std::nullopt;
    }
    if (!text) return std::nullopt;
    return BuildSummary::parse(*text);
}

// Without fsyncs: a summary lost, emptied or cut short by a crash is a miss,
// never a wrong answer (parse() wants the end line), and two fsyncs per
// build would cost more than the summary saves.
void BuildSummaries::save(const std::string& id, const BuildSummary& summary) {
    std::error_code ec;
    fs::create_directories(dir_, ec);
    if (ec) throw system_error("create directory", dir_.string(), ec.value());
    const fs::path target = dir_ / (id + ".summary");
    const std::string text = summary.serialize();
    try {
        if (store::read_file_if_exists(target) == text) return;
    } catch (const Error&) {
        // unreadable: replaced below
    }
    write_file_atomic_unsynced(target, text);
}

void BuildSummaries::touch(const std::string& id) {
    ::utimensat(AT_FDCWD, (dir_ / (id + ".summary")).c_str(), nullptr, 0);
}

std::map<std::string, int64_t> BuildSummaries::step_last_use() const {
    std::map<std::string, int64_t> out;
    std::error_code ec;
    for (auto it = fs::directory_iterator(dir_, ec); !ec && it != fs::directory_iterator();
         it.increment(ec)) {
        if (it->path().extension() != ".summary") continue;
        struct stat st {};
        if (::stat(it->path().c_str(), &st) != 0) continue;
        std::optional<BuildSummary> sum;
        try {
            if (auto text = store::read_file_if_exists(it->path()))
                sum = BuildSummary::parse(*text);
        } catch (const Error&) {
        }
        if (!sum) continue;
        for (const SummaryStep& step : sum->steps) {
            int64_t& when = out[step.key];
            when = std::max<int64_t>(when, st.st_mtim.tv_sec);
        }
    }
    return out;
}

void BuildSummaries::remove(const std::string& id) {
    std::error_code ec;
    fs::remove(dir_ / (id + ".summary"), ec);
    if (ec) throw system_error("remove", (dir_ / (id + ".summary")).string(), ec.value());
}

}  // namespace strata::cache
