#include "registry/auth_challenge.hpp"

#include <cctype>

namespace strata::registry {

namespace {

bool is_space(char c) {
    return c == ' ' || c == '\t';
}

// RFC 7230 tchar, the characters of a token (scheme or parameter name).
bool is_tchar(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

class Cursor {
  public:
    explicit Cursor(std::string_view s) : s_(s) {}
    bool done() const { return i_ >= s_.size(); }
    char peek() const { return done() ? '\0' : s_[i_]; }
    void skip_space() {
        while (!done() && is_space(s_[i_]))
            ++i_;
    }
    void skip_space_and_commas() {
        while (!done() && (is_space(s_[i_]) || s_[i_] == ','))
            ++i_;
    }
    std::string_view token() {
        const size_t start = i_;
        while (!done() && is_tchar(s_[i_]))
            ++i_;
        return s_.substr(start, i_ - start);
    }
    // After the opening quote: up to the closing one, \-escapes resolved.
    std::string quoted() {
        std::string out;
        ++i_;
        while (!done() && s_[i_] != '"') {
            if (s_[i_] == '\\' && i_ + 1 < s_.size()) ++i_;
            out += s_[i_++];
        }
        if (!done()) ++i_;
        return out;
    }
    size_t pos() const { return i_; }
    void seek(size_t p) { i_ = p; }
    void advance() { ++i_; }

  private:
    std::string_view s_;
    size_t i_ = 0;
};

}  // namespace

std::string Challenge::param(const std::string& name) const {
    auto it = params.find(name);
    return it == params.end() ? std::string() : it->second;
}

std::vector<Challenge> parse_challenges(std::string_view header) {
    std::vector<Challenge> out;
    Cursor c(header);
    for (;;) {
        c.skip_space_and_commas();
        if (c.done()) break;
        std::string_view scheme = c.token();
        if (scheme.empty()) {
            c.advance();  // garbage: skip a character and look again
            continue;
        }
        Challenge ch;
        ch.scheme = lower(scheme);
        // auth-params: name=value pairs separated by commas, until the next
        // token that is not followed by '=' (the next challenge's scheme).
        for (;;) {
            c.skip_space_and_commas();
            const size_t mark = c.pos();
            std::string_view name = c.token();
            c.skip_space();
            if (name.empty() || c.peek() != '=') {
                c.seek(mark);
                break;
            }
            c.advance();
            c.skip_space();
            std::string value;
            if (c.peek() == '"') {
                value = c.quoted();
            } else {
                // token68 or token; '=' padding of token68 included
                while (!c.done() && !is_space(c.peek()) && c.peek() != ',') {
                    value += c.peek();
                    c.advance();
                }
            }
            ch.params[lower(name)] = std::move(value);
        }
        out.push_back(std::move(ch));
    }
    return out;
}

}  // namespace strata::registry
