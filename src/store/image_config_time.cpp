#include "store/image_config_time.hpp"

#include <fmt/format.h>

#include <chrono>
#include <ctime>

namespace strata::store {

std::string format_timestamp(const Timestamp& t) {
    std::time_t secs = static_cast<std::time_t>(t.seconds);
    std::tm tm{};
    ::gmtime_r(&secs, &tm);
    std::string out = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", tm.tm_year + 1900,
                                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    if (t.nanos > 0) {
        std::string frac = fmt::format("{:09}", t.nanos);
        while (!frac.empty() && frac.back() == '0')
            frac.pop_back();
        out += "." + frac;
    }
    return out + "Z";
}

Timestamp now_timestamp() {
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                  std::chrono::system_clock::now().time_since_epoch())
                  .count();
    return Timestamp{ns / 1000000000, static_cast<int32_t>(ns % 1000000000)};
}

namespace {

// The layout Go's error messages name.
constexpr std::string_view kRfc3339 = "2006-01-02T15:04:05Z07:00";

// Go's time.quote: '"' and '\\' escaped, control and non-ASCII bytes as \xNN.
std::string go_quote(std::string_view s) {
    std::string out = "\"";
    for (unsigned char c : s) {
        if (c < 0x20 || c >= 0x80) {
            out += fmt::format("\\x{:02x}", c);
            continue;
        }
        if (c == '"' || c == '\\') out += '\\';
        out += static_cast<char>(c);
    }
    return out + '"';
}

bool is_digit(std::string_view s, size_t i) {
    return i < s.size() && s[i] >= '0' && s[i] <= '9';
}

// Go's getnum: two leading digits, or one when not `fixed` and the second
// character is not a digit. Consumes them.
bool take_number(std::string_view& s, bool fixed, int& out) {
    if (!is_digit(s, 0)) return false;
    if (!is_digit(s, 1)) {
        if (fixed) return false;
        out = s[0] - '0';
        s.remove_prefix(1);
        return true;
    }
    out = (s[0] - '0') * 10 + (s[1] - '0');
    s.remove_prefix(2);
    return true;
}

// One pass over the text in the order of Go's layout-driven parser, so that
// the first problem reported is the one Go reports.
class Rfc3339Parser {
  public:
    explicit Rfc3339Parser(std::string_view text) : text_(text), rest_(text) {}

    ParsedTimestamp run() {
        if (!parse()) return {std::nullopt, std::move(error_)};
        return {time_, {}};
    }

  private:
    bool syntax(std::string_view element, std::string_view at) {
        error_ = fmt::format("parsing time {} as {}: cannot parse {} as {}", go_quote(text_),
                             go_quote(kRfc3339), go_quote(at), go_quote(element));
        return false;
    }
    bool out_of_range(std::string_view field) {
        error_ = fmt::format("parsing time {}: {} out of range", go_quote(text_), field);
        return false;
    }
    bool literal(char c) {
        if (rest_.empty() || rest_[0] != c) return syntax(std::string_view(&c, 1), rest_);
        rest_.remove_prefix(1);
        return true;
    }
    // A two-digit field (one digit allowed unless `fixed`) below `limit`.
    bool field(std::string_view element, bool fixed, int min, int limit, std::string_view name,
               int& out) {
        const std::string_view hold = rest_;
        if (!take_number(rest_, fixed, out)) return syntax(element, hold);
        if (out < min || out >= limit) return out_of_range(name);
        return true;
    }

    bool parse() {
        int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
        if (rest_.size() < 4 || !is_digit(rest_, 0) || !is_digit(rest_, 1) || !is_digit(rest_, 2) ||
            !is_digit(rest_, 3))
            return syntax("2006", rest_);
        for (int i = 0; i < 4; ++i)
            year = year * 10 + (rest_[i] - '0');
        rest_.remove_prefix(4);
        // The day is checked against its month only at the end, as in Go.
        if (!literal('-') || !field("01", true, 1, 13, "month", month) || !literal('-') ||
            !field("02", true, 0, 100, "day", day) || !literal('T') ||
            !field("15", false, 0, 24, "hour", hour) || !literal(':') ||
            !field("04", true, 0, 60, "minute", minute) || !literal(':') ||
            !field("05", true, 0, 60, "second", second))
            return false;

        // A fraction after the seconds: '.' or ',' and at least one digit;
        // digits past the ninth are dropped.
        int32_t nanos = 0;
        if (rest_.size() >= 2 && (rest_[0] == '.' || rest_[0] == ',') && is_digit(rest_, 1)) {
            size_t n = 1;
            int32_t scale = 100000000;
            for (; is_digit(rest_, n); ++n) {
                nanos += (rest_[n] - '0') * scale;
                scale /= 10;
            }
            rest_.remove_prefix(n);
        }

        int64_t offset = 0;
        if (!rest_.empty() && rest_[0] == 'Z') {
            rest_.remove_prefix(1);
        } else {
            const std::string_view hold = rest_;
            if (rest_.size() < 6 || rest_[3] != ':') return syntax("Z07:00", hold);
            std::string_view h = rest_.substr(1, 2), m = rest_.substr(4, 2);
            int oh = 0, om = 0;
            bool ok = take_number(h, true, oh) && take_number(m, true, om);
            ok = ok && (rest_[0] == '+' || rest_[0] == '-');
            // Go tests with > rather than >= ("some people do write offsets
            // of 24 hours or 60 minutes"); the minute's complaint wins.
            if (om > 60) return out_of_range("time zone offset minute");
            if (oh > 24) return out_of_range("time zone offset hour");
            if (!ok) return syntax("Z07:00", hold);
            offset = (oh * 3600 + om * 60) * (rest_[0] == '-' ? -1 : 1);
            rest_.remove_prefix(6);
        }
        if (!rest_.empty()) {
            error_ =
                fmt::format("parsing time {}: extra text: {}", go_quote(text_), go_quote(rest_));
            return false;
        }

        using namespace std::chrono;
        const year_month_day date{std::chrono::year{year},
                                  std::chrono::month{static_cast<unsigned>(month)},
                                  std::chrono::day{static_cast<unsigned>(day)}};
        if (!date.ok()) return out_of_range("day");  // 2023-02-31, 2023-04-31, day 00
        const int64_t days = sys_days{date}.time_since_epoch().count();
        time_ = Timestamp{days * 86400 + hour * 3600 + minute * 60 + second - offset, nanos};
        return true;
    }

    std::string_view text_, rest_;
    std::string error_;
    Timestamp time_;
};

}  // namespace

ParsedTimestamp parse_timestamp_checked(std::string_view text) {
    return Rfc3339Parser(text).run();
}

std::optional<Timestamp> parse_timestamp(std::string_view text) {
    return parse_timestamp_checked(text).time;
}

}  // namespace strata::store
