#include "planner/cache_key.hpp"

#include <fmt/format.h>
// The low-level SHA256_* functions need no OpenSSL provider (see store/digest.cpp).
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

#include <memory>

#include "base/error.hpp"
#include "frontend/git_url.hpp"

namespace strata::planner {
namespace {

void put(std::string& out, std::string_view bytes) {
    const uint64_t n = bytes.size();
    for (int shift = 56; shift >= 0; shift -= 8)
        out.push_back(static_cast<char>((n >> shift) & 0xff));
    out.append(bytes);
}

std::string sha256_hex(std::string_view data) {
    unsigned char digest[SHA256_DIGEST_LENGTH];
    const unsigned int len = SHA256_DIGEST_LENGTH;
    SHA256_CTX ctx;  // not SHA256(): in OpenSSL 3 that goes through EVP and its provider
    if (SHA256_Init(&ctx) != 1 || SHA256_Update(&ctx, data.data(), data.size()) != 1 ||
        SHA256_Final(digest, &ctx) != 1)
        throw Error(ErrorKind::kInternal, "sha256 of a cache key failed (OpenSSL)");
    std::string hex;
    hex.reserve(len * 2);
    for (unsigned int i = 0; i < len; ++i)
        hex += fmt::format("{:02x}", digest[i]);
    return hex;
}

}  // namespace

bool is_url_source(std::string_view source) {
    return source.rfind("http://", 0) == 0 || source.rfind("https://", 0) == 0;
}

std::string encode_key_input(std::string_view parent, const std::vector<KeyField>& fields) {
    std::string out;
    put(out, kCacheKeyVersion);
    put(out, parent);
    put(out, std::to_string(fields.size()));
    for (const KeyField& f : fields) {
        put(out, f.name);
        put(out, f.value);
    }
    return out;
}

std::string compute_key(std::string_view parent, const std::vector<KeyField>& fields) {
    return "sha256:" + sha256_hex(encode_key_input(parent, fields));
}

KeyComputer::KeyComputer(const BuildPlan& plan, SourceDigester& digester)
    : plan_(plan), digester_(digester) {}

std::string KeyComputer::base_key(size_t stage) {
    {
        std::lock_guard lock(mu_);
        const auto it = memo_.find({stage, 0});
        if (it != memo_.end()) return it->second;
    }
    const StagePlan& sp = plan_.stage(stage);
    std::vector<KeyField> fields{{"op", "FROM"}, {"platform", sp.platform.str()}};
    // Every layer's file times are clamped to SOURCE_DATE_EPOCH (and COPY sets
    // them to it), so a step's result depends on the epoch: it is part of each
    // chain's root. Without an epoch the keys are as they always were.
    if (plan_.source_date_epoch)
        fields.push_back({"source-date-epoch", std::to_string(*plan_.source_date_epoch)});
    std::string parent;
    switch (sp.base_kind) {
        case StagePlan::BaseKind::kScratch:
            fields.push_back({"base", "scratch"});
            break;
        case StagePlan::BaseKind::kImage:
            fields.push_back({"base", "image"});
            fields.push_back({"image-digest", sp.base_image.digest});
            break;
        case StagePlan::BaseKind::kStage:
            fields.push_back({"base", "stage"});
            parent = stage_key(sp.base_stage);
            break;
    }
    std::string key = compute_key(parent, fields);
    std::lock_guard lock(mu_);
    return memo_.emplace(std::make_pair(stage, size_t{0}), std::move(key)).first->second;
}

std::string KeyComputer::parent_of(size_t stage, size_t step) {
    const StagePlan& sp = plan_.stage(stage);
    for (size_t i = step; i-- > 0;) {
        if (sp.steps[i].changes_filesystem) return step_key(stage, i);
    }
    return base_key(stage);
}

std::string KeyComputer::stage_key(size_t stage) {
    return parent_of(stage, plan_.stage(stage).steps.size());
}

std::vector<KeyField> KeyComputer::extra_fields(const Step& s) {
    std::vector<KeyField> out;
    if (s.kind == StepKind::kCopy) {
        const CopyStep& c = s.copy;
        switch (c.from.kind) {
            case SourceRef::Kind::kContext: {
                bool local = false;
                for (const std::string& src : c.sources)
                    local = local || !(is_url_source(src) || frontend::is_git_url(src));
                if (local) out.push_back({"context-sources", digester_.context_sources(c)});
                break;
            }
            case SourceRef::Kind::kStage:
                out.push_back({"from-stage-key", stage_key(c.from.stage)});
                out.push_back({"stage-sources", digester_.stage_sources(c)});
                break;
            case SourceRef::Kind::kImage:
                out.push_back({"stage-sources", digester_.stage_sources(c)});
                break;
            case SourceRef::Kind::kScratch:
                break;
        }
        if (c.from.kind == SourceRef::Kind::kContext) {
            for (const std::string& src : c.sources) {
                if (frontend::is_git_url(src))
                    out.push_back({"git-source", digester_.git_source(src, c.keep_git_dir)});
                else if (c.checksum.empty() && is_url_source(src))
                    out.push_back({"url-content", digester_.url_content(src)});
            }
        }
    } else if (s.kind == StepKind::kRun) {
        for (const RunMount& m : s.run.mounts) {
            if (m.from.kind == SourceRef::Kind::kStage) {
                out.push_back({"mount-stage-key", stage_key(m.from.stage)});
            } else if (m.from.kind == SourceRef::Kind::kContext && m.type == "bind") {
                out.push_back({"mount-context", digester_.context_mount(m)});
            }
        }
    }
    return out;
}

std::vector<KeyField> KeyComputer::step_fields(size_t stage, size_t step) {
    const Step& s = plan_.stage(stage).steps.at(step);
    std::vector<KeyField> fields = s.key_fields;
    for (KeyField& f : extra_fields(s))
        fields.push_back(std::move(f));
    return fields;
}

std::string KeyComputer::step_key(size_t stage, size_t step) {
    {
        std::lock_guard lock(mu_);
        const auto it = memo_.find({stage, step + 1});
        if (it != memo_.end()) return it->second;
    }
    const std::string parent = parent_of(stage, step);
    std::string key = compute_key(parent, step_fields(stage, step));
    std::lock_guard lock(mu_);
    return memo_.emplace(std::make_pair(stage, step + 1), std::move(key)).first->second;
}

}  // namespace strata::planner
