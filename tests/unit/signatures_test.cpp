// Unit tests of signatures.hpp: key lines, and signature files as untrusted input.
#include <catch2/catch.hpp>
#include <migrator/common/errors.hpp>
#include <migrator/plugins/signatures.hpp>
#include <string>

using namespace migrator;
using Catch::Matchers::Contains;

namespace {

std::string hex(char digit) { return std::string(64, digit); }

std::vector<SignedEntry> two_entries() {
    return {{hex('a'), hex('b'), "a1a1a1a1a1a1", "a1_create_item.so"},
            {hex('c'), hex('d'), "b2b2b2b2b2b2", "b2 with a space.so"}};
}

}  // namespace

TEST_CASE("a signature file signed with a key pair verifies with its public key and round-trips",
          "[signatures]") {
    const KeyPairText pair = generate_key_pair();
    const std::string text = render_signature_file(two_entries(), pair.secret_line, "test.key");
    const SignatureFile parsed = parse_signature_file(text, "test.signatures");
    CHECK(parsed.signature_valid);
    CHECK(parsed.key.line() + "\n" == pair.public_line);
    REQUIRE(parsed.entries.size() == 2);
    CHECK(parsed.entries[1].name == "b2 with a space.so");
    CHECK(parsed.entries[1].revision_id == "b2b2b2b2b2b2");
    CHECK(parsed.entries[0].metadata_digest == hex('b'));
}

TEST_CASE("any changed byte of a signature file's signed part fails its signature",
          "[signatures]") {
    const KeyPairText pair = generate_key_pair();
    const std::string text = render_signature_file(two_entries(), pair.secret_line, "k");
    const std::size_t body = text.find("\naaaa") + 1;
    for (std::size_t at = body; at < text.size(); ++at) {
        std::string changed = text;
        if (changed[at] == '\n') continue;
        changed[at] = changed[at] == 'a' ? 'e' : changed[at] == 'c' ? 'e' : 'a';
        bool refused = true;  // a malformed file is a refusal too
        try {
            refused = !parse_signature_file(changed, "s").signature_valid;
        } catch (const PluginError&) {
        }
        CHECK(refused);
    }
    // Another key's line in place of the signer's: the signature no longer verifies.
    const KeyPairText other = generate_key_pair();
    std::string swapped = text;
    const std::string own_key = "key " + text.substr(text.find("key ") + 4, 44);
    swapped.replace(swapped.find(own_key), own_key.size(),
                    "key " + other.public_line.substr(17, 44));
    CHECK_FALSE(parse_signature_file(swapped, "s").signature_valid);
}

TEST_CASE("a malformed signature file is refused with one sentence naming it", "[signatures]") {
    const KeyPairText pair = generate_key_pair();
    const std::string good = render_signature_file(two_entries(), pair.secret_line, "k");
    const auto refusal = [](const std::string& text) {
        try {
            parse_signature_file(text, "/v/x.signatures");
        } catch (const PluginError& e) {
            return std::string(e.what());
        }
        return std::string("accepted");
    };
    CHECK_THAT(refusal(""), Contains("signature file /v/x.signatures is malformed"));
    CHECK_THAT(refusal("migrator-signatures-v3\n"), Contains("does not start with the line"));
    CHECK_THAT(refusal("migrator-signatures-v1\nkey abc\nsignature x\n"),
               Contains("in the format of an earlier migrator build (migrator-signatures-v1)"));
    CHECK_THAT(refusal("migrator-signatures-v2\nkey abc\nsignature x\n"),
               Contains("second line is not 'key <base64 of 32 bytes>'"));
    CHECK_THAT(refusal(good.substr(0, good.size() - 1)), Contains("a final newline is missing"));
    std::string slash = good;
    slash.replace(slash.find("a1_create_item.so"), 17, "../etc/passwd.so");
    CHECK_THAT(refusal(slash), Contains("holds '/'"));
    std::string short_digest = good;
    short_digest.replace(short_digest.find(hex('a')), 64, "abc");
    CHECK_THAT(refusal(short_digest), Contains("64 lowercase hexadecimal digits"));
    CHECK_THAT(refusal(std::string(max_signature_file_size + 1, 'x')), Contains("larger than"));
}

TEST_CASE("public key lines parse, skip comments and refuse anything else by line",
          "[signatures]") {
    const KeyPairText one = generate_key_pair();
    const KeyPairText two = generate_key_pair();
    const auto keys = parse_public_keys(
        "# release keys\n" + one.public_line + "\n" + two.public_line + one.public_line,
        "keys.pub");
    REQUIRE(keys.size() == 2);
    CHECK(keys[0].line() + "\n" == one.public_line);
    CHECK_THROWS_WITH(parse_public_keys("ssh-ed25519 AAAA\n", "keys.pub"),
                      Contains("key file keys.pub: line 1 is not a public key line"));
    CHECK_THROWS_WITH(parse_public_keys(one.secret_line, "k"), Contains("line 1"));
    CHECK_THROWS_WITH(parse_public_keys("\n# nothing\n", "empty.pub"),
                      Contains("holds no public key"));
    CHECK_THROWS_WITH(render_signature_file(two_entries(), one.public_line, "x.pub"),
                      Contains("key file x.pub is not a secret key"));
}
