// COPY and ADD path rules through whole builds, one table row per rule: the
// context, the instructions (after FROM base:latest), and what the image must
// hold afterwards (or the error the build must stop with). The rules
// themselves are unit-tested in tests/executor/; these rows check that the
// planner's expansion, the executor and the layer store agree end to end.
#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>

#include "build_fixture.hpp"
#include "frontend/diagnostic.hpp"
#include "support/http_server.hpp"

// Table rows leave their trailing fields at the defaults.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace strata::buildtest {
namespace {

struct ContextFile {
    std::string path;
    std::string content;
    mode_t mode = 0644;
    std::string link;  // non-empty: a symlink to this instead
};

struct Expect {
    std::string path;
    char type = 'f';
    std::string data;  // file content or link target
    int mode = -1, uid = -1, gid = -1;
};

struct Row {
    std::string name;
    std::vector<ContextFile> files;
    std::string body;  // after "FROM base:latest\n"
    std::vector<Expect> expect;
    std::vector<std::string> absent;
    std::string error;  // non-empty: the build must fail with this in the message
};

// A tar archive (libarchive filter code: ARCHIVE_FILTER_GZIP, ...).
std::string tarball(int filter, const std::map<std::string, std::string>& files) {
    std::string out;
    struct archive* a = archive_write_new();
    archive_write_set_format_pax_restricted(a);
    switch (filter) {
        case ARCHIVE_FILTER_GZIP:
            archive_write_add_filter_gzip(a);
            break;
        case ARCHIVE_FILTER_BZIP2:
            archive_write_add_filter_bzip2(a);
            break;
        case ARCHIVE_FILTER_XZ:
            archive_write_add_filter_xz(a);
            break;
        case ARCHIVE_FILTER_ZSTD:
            archive_write_add_filter_zstd(a);
            break;
        default:
            break;
    }
    archive_write_set_bytes_in_last_block(a, 1);  // no zero padding after the compressed data
    archive_write_open(
        a, &out, nullptr,
        [](struct archive*, void* ctx, const void* buf, size_t n) -> la_ssize_t {
            static_cast<std::string*>(ctx)->append(static_cast<const char*>(buf), n);
            return static_cast<la_ssize_t>(n);
        },
        nullptr);
    for (const auto& [name, data] : files) {
        struct archive_entry* e = archive_entry_new();
        archive_entry_set_pathname(e, name.c_str());
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0640);
        archive_entry_set_uid(e, 42);
        archive_entry_set_gid(e, 43);
        archive_entry_set_mtime(e, 1600000000, 0);
        archive_entry_set_size(e, static_cast<la_int64_t>(data.size()));
        archive_write_header(a, e);
        archive_write_data(a, data.data(), data.size());
        archive_entry_free(e);
    }
    archive_write_close(a);
    archive_write_free(a);
    return out;
}

class CopyRules : public BuildTest, public ::testing::WithParamInterface<Row> {};

TEST_P(CopyRules, Row) {
    const Row& row = GetParam();
    for (const auto& f : row.files) {
        if (!f.link.empty()) {
            fs::create_directories((ctx() / f.path).parent_path());
            fs::create_symlink(f.link, ctx() / f.path);
        } else {
            file(f.path, f.content, f.mode);
        }
    }
    dockerfile("FROM base:latest\n" + row.body);
    if (!row.error.empty()) {
        try {
            build();
            FAIL() << "expected the build to fail with: " << row.error;
        } catch (const frontend::ParseError& e) {
            EXPECT_NE(e.diagnostic().message.find(row.error), std::string::npos)
                << e.diagnostic().message;
            EXPECT_GE(e.diagnostic().pos.line, 2u) << "located at the instruction";
        }
        return;
    }
    const Tree t = rootfs(build());
    for (const Expect& x : row.expect) {
        auto it = t.find(x.path);
        ASSERT_NE(it, t.end()) << x.path << " missing";
        EXPECT_EQ(it->second.type, x.type) << x.path;
        if (x.type != 'd') {
            EXPECT_EQ(it->second.data, x.data) << x.path;
        }
        if (x.mode >= 0) {
            EXPECT_EQ(it->second.mode, static_cast<uint32_t>(x.mode)) << x.path;
        }
        if (x.uid >= 0) {
            EXPECT_EQ(it->second.uid, static_cast<uint32_t>(x.uid)) << x.path;
        }
        if (x.gid >= 0) {
            EXPECT_EQ(it->second.gid, static_cast<uint32_t>(x.gid)) << x.path;
        }
    }
    for (const auto& p : row.absent)
        EXPECT_EQ(t.count(p), 0u) << p << " must not be there";
}

const std::vector<ContextFile> kTexts = {
    {"a.txt", "A"}, {"b.txt", "B"}, {"c.md", "C"}, {"dir/f", "F"}, {"dir/sub/g", "G"}};

const Row kRows[] = {
    {"wildcard",
     kTexts,
     "COPY *.txt /w/\n",
     {{"/w/a.txt", 'f', "A"}, {"/w/b.txt", 'f', "B"}},
     {"/w/c.md"},
     ""},
    {"wildcard_class",
     kTexts,
     "COPY [ab].txt /x/\n",
     {{"/x/a.txt", 'f', "A"}, {"/x/b.txt", 'f', "B"}},
     {},
     ""},
    {"wildcard_and_missing_literal",
     kTexts,
     "COPY *.none a.txt /y/\n",
     {{"/y/a.txt", 'f', "A"}},
     {},
     ""},
    {"nothing_selected", kTexts, "COPY *.none /y/\n", {}, {}, "no source files were specified"},
    {"directory_contents",
     kTexts,
     "COPY dir /d1\nCOPY dir/ /d2/\n",
     {{"/d1/f", 'f', "F"}, {"/d1/sub/g", 'f', "G"}, {"/d2/f", 'f', "F"}},
     {"/d1/dir"},
     ""},
    {"dot_copies_everything",
     kTexts,
     "COPY . /all/\n",
     {{"/all/a.txt", 'f', "A"},
      {"/all/dir/sub/g", 'f', "G"},
      {"/all/Dockerfile", 'f', "FROM base:latest\nCOPY . /all/\n"}},
     {},
     ""},
    {"trailing_slash_means_directory",
     kTexts,
     "COPY a.txt /dest/\nCOPY a.txt /newname\n",
     {{"/dest/a.txt", 'f', "A"}, {"/newname", 'f', "A"}},
     {},
     ""},
    {"existing_directory_without_slash",
     kTexts,
     "COPY a.txt /srv\n",
     {{"/srv/a.txt", 'f', "A"}, {"/srv/existing.txt", 'f', "was here\n"}},
     {},
     ""},
    {"missing_parents_are_made",
     kTexts,
     "COPY a.txt /x/y/z/f\n",
     {{"/x/y/z", 'd', "", 0755, 0, 0}, {"/x/y/z/f", 'f', "A"}},
     {},
     ""},
    {"relative_dest_under_workdir",
     kTexts,
     "WORKDIR /app\nCOPY a.txt sub/\nCOPY b.txt .\n",
     {{"/app/sub/a.txt", 'f', "A"}, {"/app/b.txt", 'f', "B"}},
     {},
     ""},
    {"several_sources_need_a_directory",
     kTexts,
     "COPY a.txt b.txt /one\n",
     {},
     {},
     "must be a directory and end with a /"},
    {"replaces_an_existing_file",
     kTexts,
     "COPY a.txt /srv/existing.txt\n",
     {{"/srv/existing.txt", 'f', "A"}},
     {},
     ""},
    {"file_onto_a_directory_path",
     kTexts,
     "COPY a.txt /x/\nCOPY b.txt /x/a.txt/\n",
     {},
     {},
     "not a directory"},
    {"chown_user_and_group_names",
     kTexts,
     "COPY --chown=app:staff a.txt /o\n",
     {{"/o", 'f', "A", 0644, 1000, 50}},
     {},
     ""},
    {"chown_user_name_takes_its_primary_group",
     kTexts,
     "COPY --chown=app dir /od/\n",
     {{"/od", 'd', "", -1, 1000, 1001}, {"/od/sub/g", 'f', "G", -1, 1000, 1001}},
     {},
     ""},
    {"chown_numeric",
     kTexts,
     "COPY --chown=7:8 a.txt /n\nCOPY --chown=9 a.txt /m\n",
     {{"/n", 'f', "A", -1, 7, 8}, {"/m", 'f', "A", -1, 9, 9}},
     {},
     ""},
    {"chown_unknown_user", kTexts, "COPY --chown=ghost a.txt /o\n", {}, {}, "ghost"},
    {"chown_from_variables",
     kTexts,
     "ARG OWNER=app\nCOPY --chown=${OWNER}:staff a.txt /v\n",
     {{"/v", 'f', "A", -1, 1000, 50}},
     {},
     ""},
    {"chmod_octal",
     kTexts,
     "COPY --chmod=0700 a.txt /m1\nCOPY --chmod=755 dir /m2/\n",
     {{"/m1", 'f', "A", 0700}, {"/m2/f", 'f', "F", 0755}, {"/m2/sub", 'd', "", 0755}},
     {},
     ""},
    {"chmod_symbolic",
     {{"x.sh", "X", 0644}, {"d/y", "Y", 0600}},
     "COPY --chmod=u+x,g-r x.sh /s1\nCOPY --chmod=a+rX d /s2/\n",
     {{"/s1", 'f', "X", 0704}, {"/s2/y", 'f', "Y", 0644}},
     {},
     ""},
    {"chmod_invalid", kTexts, "COPY --chmod=99z a.txt /bad\n", {}, {}, "chmod"},
    {"link_keeps_the_parent_out_of_the_layer",
     kTexts,
     "COPY --link a.txt /srv/\n",
     {{"/srv/a.txt", 'f', "A"}, {"/srv/existing.txt", 'f', "was here\n"}},
     {},
     ""},
    {"parents_keep_the_path",
     {{"src/a/x.go", "ax"}, {"src/b/x.go", "bx"}, {"src/b/y.go", "by"}},
     "COPY --parents src/*/x.go /out/\n",
     {{"/out/src/a/x.go", 'f', "ax"}, {"/out/src/b/x.go", 'f', "bx"}},
     {"/out/src/b/y.go"},
     ""},
    {"parents_pivot",
     {{"src/a/x.go", "ax"}},
     "COPY --parents ./src/./a/x.go /p/\n",
     {{"/p/a/x.go", 'f', "ax"}},
     {"/p/src"},
     ""},
    {"exclude_patterns",
     kTexts,
     "COPY --exclude=*.md --exclude=dir/sub . /e/\n",
     {{"/e/a.txt", 'f', "A"}, {"/e/dir/f", 'f', "F"}},
     {"/e/c.md", "/e/dir/sub"},
     ""},
    {"symlink_inside_a_directory_stays_a_symlink",
     {{"d/f", "F"}, {"d/l", "", 0, "f"}},
     "COPY d /s/\n",
     {{"/s/f", 'f', "F"}, {"/s/l", 'l', "f"}},
     {},
     ""},
    {"top_level_symlink_is_followed",
     {{"a.txt", "A"}, {"link.txt", "", 0, "a.txt"}},
     "COPY link.txt /t\n",
     {{"/t", 'f', "A"}},
     {},
     ""},
    {"symlink_out_of_the_context",
     {{"esc", "", 0, "../../etc"}},
     "COPY esc/passwd /p\n",
     {},
     {},
     "outside the build context"},
    {"dotdot_out_of_the_context",
     kTexts,
     "COPY ../secret /p\n",
     {},
     {},
     "outside the build context"},
    {"heredoc_source",
     {},
     "COPY <<EOF /h.txt\nhello ${HOME:-x}\nEOF\n",
     {{"/h.txt", 'f', "hello x\n", 0644, 0, 0}},
     {},
     ""},
    {"add_plain_file_is_copied", kTexts, "ADD a.txt /added\n", {{"/added", 'f', "A"}}, {}, ""},
    {"add_not_a_tar_with_tar_name",
     {{"fake.tar.gz", "not an archive"}},
     "ADD fake.tar.gz /x/\n",
     {{"/x/fake.tar.gz", 'f', "not an archive"}},
     {},
     ""},
    {"copy_does_not_extract",
     {{"t.tar.gz", tarball(ARCHIVE_FILTER_GZIP, {{"in.txt", "IN"}})}},
     "COPY t.tar.gz /c/\n",
     {{"/c/t.tar.gz", 'f', tarball(ARCHIVE_FILTER_GZIP, {{"in.txt", "IN"}})}},
     {"/c/in.txt"},
     ""},
};

std::vector<Row> tar_rows() {
    std::vector<Row> out;
    const std::pair<const char*, int> kinds[] = {{"tar", ARCHIVE_FILTER_NONE},
                                                 {"gzip", ARCHIVE_FILTER_GZIP},
                                                 {"bzip2", ARCHIVE_FILTER_BZIP2},
                                                 {"xz", ARCHIVE_FILTER_XZ},
                                                 {"zstd", ARCHIVE_FILTER_ZSTD}};
    for (const auto& [name, filter] : kinds) {
        Row r{std::string("add_extracts_") + name,
              {{"archive.bin", tarball(filter, {{"x/in.txt", "IN"}, {"top.txt", "T"}})}},
              "ADD archive.bin /unpacked/\n",
              {{"/unpacked/x/in.txt", 'f', "IN", 0640, 42, 43}, {"/unpacked/top.txt", 'f', "T"}},
              {"/unpacked/archive.bin"},
              ""};
        out.push_back(std::move(r));
    }
    return out;
}

std::string row_name(const ::testing::TestParamInfo<Row>& info) {
    return info.param.name;
}

INSTANTIATE_TEST_SUITE_P(Paths, CopyRules, ::testing::ValuesIn(kRows), row_name);
INSTANTIATE_TEST_SUITE_P(Archives, CopyRules, ::testing::ValuesIn(tar_rows()), row_name);

// ADD <url> against a server on 127.0.0.1: --checksum verified, the name
// from the URL, mode 0600; a wrong checksum stops the build.
class AddUrlBuild : public BuildTest {
  protected:
    testsupport::TestHttpServer server_;
};

TEST_F(AddUrlBuild, ChecksumVerifiedAndFileNamedFromTheUrl) {
    server_.route("/files/tool.sh", {200, "echo tool\n", "", ""});
    const std::string sha = "sha256:" + imagetest::sha256_hex("echo tool\n");
    const Tree t = rootfs(build("FROM base:latest\nADD --checksum=" + sha + " " +
                                server_.url("/files/tool.sh") + " /dl/\n"));
    expect_file(t, "/dl/tool.sh", "echo tool\n", 0600, 0, 0);

    dockerfile("FROM base:latest\nADD --checksum=sha256:" + std::string(64, '0') + " " +
               server_.url("/files/tool.sh") + " /dl/\n");
    try {
        build();
        FAIL() << "a wrong checksum must fail the build";
    } catch (const frontend::ParseError& e) {
        EXPECT_NE(e.diagnostic().message.find("checksum"), std::string::npos)
            << e.diagnostic().message;
    }
}

TEST_F(AddUrlBuild, WithoutChecksumTheContentIsTheKey) {
    server_.route("/v", {200, "one", "", ""});
    const std::string df = "FROM base:latest\nADD " + server_.url("/v") + " /v\n";
    auto first = build(df);
    EXPECT_EQ(outcomes(first), "B");
    EXPECT_EQ(server_.hits("/v"), 1) << "fetched once: for the key and the copy";
    EXPECT_EQ(outcomes(build(df)), "C") << "same content: a hit";
    server_.route("/v", {200, "two", "", ""});
    auto third = build(df);
    EXPECT_EQ(outcomes(third), "B") << "new content: a miss";
    expect_file(rootfs(third), "/v", "two");
}

TEST_F(AddUrlBuild, HttpErrorIsLocated) {
    dockerfile("FROM base:latest\nADD " + server_.url("/missing") + " /m\n");
    try {
        build();
        FAIL();
    } catch (const frontend::ParseError& e) {
        EXPECT_EQ(e.diagnostic().pos.line, 2u);
        EXPECT_NE(e.diagnostic().message.find("404"), std::string::npos) << e.diagnostic().message;
    }
}

}  // namespace
}  // namespace strata::buildtest
