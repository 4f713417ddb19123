// The scanner decides what every line is without a DOM. Its answers must agree with what the peers'
// JSON parsers (JSON.parse in the TypeScript SDK) will make of the same bytes, or a filter can be
// walked around: these tests pin the classification, the id tokens, and every class of invalid
// input.
#include "core/jsonrpc.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

namespace mcpcell {
namespace {

MessageInfo scan(std::string_view line) {
  MessageInfo info;
  scan_message(line, info);
  return info;
}

TEST(JsonRpc, Kinds) {
  struct Case {
    const char* line;
    MessageKind kind;
  } cases[] = {
      {R"({"jsonrpc":"2.0","id":1,"method":"tools/list"})", MessageKind::request},
      {R"({"jsonrpc":"2.0","method":"notifications/initialized"})", MessageKind::notification},
      {R"({"jsonrpc":"2.0","id":1,"result":{}})", MessageKind::response},
      {R"({"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"nope"}})", MessageKind::error},
      {R"([{"jsonrpc":"2.0","id":1,"method":"ping"}])", MessageKind::batch},
      {R"([])", MessageKind::batch},
      {R"({"jsonrpc":"2.0"})", MessageKind::other_object},
      {R"({"jsonrpc":"2.0","id":1})", MessageKind::other_object},
      {R"({"jsonrpc":"2.0","id":1,"method":7})", MessageKind::other_object},
      {R"("just a string")", MessageKind::invalid},
      {R"(42)", MessageKind::invalid},
      {R"(null)", MessageKind::invalid},
  };
  for (const Case& c : cases) EXPECT_EQ(scan(c.line).kind, c.kind) << c.line;
}

TEST(JsonRpc, SpansPointAtTheRawMembers) {
  MessageInfo i = scan(
      R"({"jsonrpc":"2.0", "id" : 5 , "method":"tools/call","params":{"name":"echo","arguments":{"m":[1,2,{"x":null}]}}})");
  EXPECT_EQ(i.kind, MessageKind::request);
  EXPECT_EQ(i.id, "5");
  EXPECT_EQ(i.method, "tools/call");
  EXPECT_EQ(i.params, R"({"name":"echo","arguments":{"m":[1,2,{"x":null}]}})");
  EXPECT_TRUE(i.result.empty());
  EXPECT_TRUE(i.error.empty());
  EXPECT_TRUE(i.is_request());
}

TEST(JsonRpc, IdTokensKeepTheirType) {
  EXPECT_EQ(scan(R"({"jsonrpc":"2.0","id":0,"method":"ping"})").id, "0");
  EXPECT_TRUE(scan(R"({"jsonrpc":"2.0","id":0,"method":"ping"})").has_id());
  EXPECT_EQ(scan(R"({"jsonrpc":"2.0","id":"0","method":"ping"})").id, "\"0\"");
  EXPECT_EQ(scan(R"({"jsonrpc":"2.0","id":-17,"result":{}})").id, "-17");
  EXPECT_EQ(
      scan(R"({"jsonrpc":"2.0","id":"server-discover-probe-1","method":"server/discover"})").id,
      "\"server-discover-probe-1\"");
  EXPECT_EQ(scan(R"({"jsonrpc":"2.0","id":"a\"b","result":1})").id, R"("a\"b")");
  MessageInfo null_id =
      scan(R"({"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"x"}})");
  EXPECT_EQ(null_id.kind, MessageKind::error);
  EXPECT_FALSE(null_id.has_id());
}

TEST(JsonRpc, NestedIdsAndMethodsDoNotCount) {
  // Only top-level members route. A result that carries "id" and "method" inside stays a response
  // for the outer id.
  MessageInfo i = scan(R"({"jsonrpc":"2.0","result":{"id":99,"method":"evil","error":{}},"id":7})");
  EXPECT_EQ(i.kind, MessageKind::response);
  EXPECT_EQ(i.id, "7");
  EXPECT_TRUE(i.method.empty());
  EXPECT_EQ(i.result, R"({"id":99,"method":"evil","error":{}})");
  MessageInfo n = scan(R"({"jsonrpc":"2.0","method":"x","params":[{"id":1}]})");
  EXPECT_EQ(n.kind, MessageKind::notification);
  EXPECT_FALSE(n.has_id());
}

TEST(JsonRpc, DuplicateRoutingMembersAreRefused) {
  // JSON.parse and nlohmann keep the last duplicate, but cJSON, RapidJSON's FindMember and simdjson
  // find the first: whichever the scanner chose, some peer would execute another method or answer
  // another id than the filters saw. A second routing member makes the line invalid.
  struct Case {
    const char* line;
    const char* error;
  } cases[] = {
      {R"({"jsonrpc":"2.0","method":"ping","id":1,"method":"tools/call"})",
       "duplicate member \"method\" at byte 40"},
      {R"({"jsonrpc":"2.0","id":1,"id":2,"result":{}})", "duplicate member \"id\" at byte 24"},
      {R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{},"params":{"name":"x"}})",
       "duplicate member \"params\""},
      {R"({"jsonrpc":"2.0","id":1,"result":{},"result":{"tools":[]}})",
       "duplicate member \"result\""},
      {R"({"jsonrpc":"2.0","id":1,"error":{},"error":{}})", "duplicate member \"error\""},
      // Escaped names are the same names to every peer.
      {R"({"jsonrpc":"2.0","id":1,"method":"ping","\u006dethod":"tools/call"})",
       "duplicate member \"method\""},
      {R"({"jsonrpc":"2.0","method":"ping","id":null,"id":1})", "duplicate member \"id\""},
  };
  for (const auto& c : cases) {
    MessageInfo i = scan(c.line);
    EXPECT_EQ(i.kind, MessageKind::invalid) << c.line;
    EXPECT_EQ(i.error_text.rfind(c.error, 0), 0u) << c.line << " -> " << i.error_text;
    EXPECT_TRUE(i.method.empty() && i.id.empty()) << c.line;
  }
  // Other duplicates, and routing names below the top level, are the peer's business.
  EXPECT_EQ(scan(R"({"jsonrpc":"2.0","jsonrpc":"2.0","id":1,"method":"ping"})").kind,
            MessageKind::request);
  EXPECT_EQ(
      scan(R"({"jsonrpc":"2.0","id":1,"result":{"id":1,"id":2,"method":"a","method":"b"}})").kind,
      MessageKind::response);
}

// The filters parse what the scanner passes with nlohmann, and give up on what fails to parse. A
// line valid here and invalid there went through every filter unseen: this tools/list result
// (found by tests/fuzz/fuzz_jsonrpc.cc) skipped pinning and withholding, while the client's
// JSON.parse accepts it. nlohmann refuses lone surrogates and numbers past a double's range, and so
// does the scanner now.
TEST(JsonRpc, WhatNlohmannRefusesIsInvalid) {
  const char* lines[] = {
      R"({"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"evil","description":"x\udc00"}]}})",
      R"({"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"evil","description":"x\ud800"}]}})",
      R"({"jsonrpc":"2.0","method":"x\ud800y"})",
      R"({"jsonrpc":"2.0","method":"x\ud800\u0041"})",        // high surrogate, then no low one
      R"({"jsonrpc":"2.0","method":"x\ud800\ud800"})",        // two high ones
      R"({"jsonrpc":"2.0","method":"x\udc00\ud800"})",        // a pair the wrong way round
      R"({"jsonrpc":"2.0","method":"x","params":"\ud83d"})",  // cut at the end of a string
      R"({"jsonrpc":"2.0","id":1,"result":{"n":1e400}})",
      R"({"jsonrpc":"2.0","id":1,"result":{"n":-1.8e308}})",
      R"({"jsonrpc":"2.0","id":1,"result":{"n":0.0001e313}})",
      R"({"jsonrpc":"2.0","id":1,"result":{"n":1E+99999999999999999999}})",
  };
  for (const char* l : lines) {
    MessageInfo i = scan(l);
    EXPECT_EQ(i.kind, MessageKind::invalid) << l;
    EXPECT_TRUE(nlohmann::json::parse(l, nullptr, false).is_discarded()) << l;
  }
  std::string big = R"({"jsonrpc":"2.0","id":1,"result":{"n":1)" + std::string(309, '0') + "}}";
  EXPECT_EQ(scan(big).kind, MessageKind::invalid);

  // Their valid neighbours still pass, and nlohmann agrees.
  std::string near = R"({"jsonrpc":"2.0","id":1,"result":{"n":1)" + std::string(300, '0') + "}}";
  const std::string fine[] = {
      R"({"jsonrpc":"2.0","method":"x\ud83d\ude00y\uDBFF\uDFFF\uffff"})",
      R"({"jsonrpc":"2.0","id":1,"result":{"n":[1.7976931348623157e308,1e-400,-0.0,0e999999,1e308]}})",
      R"({"jsonrpc":"2.0","id":1,"result":{"n":100000000000000000000000000000e-20}})",
      near,
  };
  for (const auto& l : fine) {
    EXPECT_NE(scan(l).kind, MessageKind::invalid) << l << " -> " << scan(l).error_text;
    EXPECT_FALSE(nlohmann::json::parse(l, nullptr, false).is_discarded()) << l;
  }
}

TEST(JsonRpc, EscapesInMethodAreDecoded) {
  MessageInfo a = scan(R"({"jsonrpc":"2.0","id":1,"method":"tools\/call"})");
  EXPECT_EQ(a.method, "tools/call");
  EXPECT_TRUE(a.has_escapes);
  MessageInfo b = scan(R"({"jsonrpc":"2.0","id":1,"method":"\u0074ools/c\u0061ll"})");
  EXPECT_EQ(b.method, "tools/call");
  MessageInfo c = scan(R"({"jsonrpc":"2.0","method":"x\ud83d\ude00y"})");  // surrogate pair
  EXPECT_EQ(c.method, "x\xf0\x9f\x98\x80y");
  MessageInfo d = scan(R"({"jsonrpc":"2.0","method":"x\ud800y"})");  // lone surrogate
  EXPECT_EQ(d.kind, MessageKind::invalid);  // see WhatNlohmannRefusesIsInvalid
  EXPECT_TRUE(d.method.empty());
  MessageInfo e = scan(R"({"jsonrpc":"2.0","method":"a\nb\t\"\\"})");
  EXPECT_EQ(e.method, "a\nb\t\"\\");
}

// Security: JSON.parse decodes escapes in member names too, so {"\u006dethod":...} is a request for
// the peer. If the scanner compares raw key bytes it classifies the line as `other` and
// method-based filters never see the call. Disabled until launcher/core/jsonrpc.cc decodes escaped
// top-level keys (reported to the lead; not a one-line fix).
TEST(JsonRpc, EscapedMemberNamesRouteLikeJsonParse) {
  MessageInfo i = scan(R"({"jsonrpc":"2.0","id":1,"\u006dethod":"tools/call","params":{}})");
  EXPECT_EQ(i.kind, MessageKind::request);
  EXPECT_EQ(i.method, "tools/call");
  MessageInfo r = scan(R"({"jsonrpc":"2.0","\u0069d":3,"r\u0065sult":{"content":[]}})");
  EXPECT_EQ(r.kind, MessageKind::response);
  EXPECT_EQ(r.id, "3");
}

TEST(JsonRpc, EveryClassOfInvalidJsonIsRejected) {
  const char* bad[] = {
      "",
      "   ",
      "\r",
      "{",
      "}",
      R"({"id":1)",
      R"({"id":1,})",
      R"({"id" 1})",
      R"({'id':1})",
      R"({id:1})",
      R"({"id":01})",
      R"({"id":-})",
      R"({"id":1.})",
      R"({"id":.5})",
      R"({"id":1e})",
      R"({"id":1e+})",
      R"({"id":+1})",
      R"({"id":0x10})",
      R"({"id":NaN})",
      R"({"id":Infinity})",
      R"({"id":tru})",
      R"({"id":nul})",
      R"({"id":True})",
      R"({"s":"unterminated})",
      R"({"s":"bad \x escape"})",
      R"({"s":"short \u12"})",
      R"({"s":"bad hex \u12G4"})",
      "{\"s\":\"raw\ttab\"}",
      "{\"s\":\"raw\nnewline\"}",
      "{\"s\":\"nul\x01\"}",
      R"({"a":1}{"b":2})",
      R"({"a":1} x)",
      R"([1,2)",
      R"([1,,2])",
      R"([1,2,])",
      R"({"a":[}])",
      R"({,"a":1})",
      R"({"a":1 "b":2})",
      "\xef\xbb\xbf{\"id\":1}",  // a BOM is not JSON whitespace
  };
  for (const char* line : bad) {
    MessageInfo i = scan(line);
    EXPECT_EQ(i.kind, MessageKind::invalid) << "accepted: " << line;
    EXPECT_FALSE(i.error_text.empty()) << line;
    EXPECT_TRUE(i.id.empty() && i.method.empty()) << "invalid line leaked routing info: " << line;
  }
}

TEST(JsonRpc, ErrorTextNamesTheByte) {
  MessageInfo i = scan(R"({"id":1,"x":tru})");
  EXPECT_NE(i.error_text.find("at byte 12"), std::string::npos) << i.error_text;
}

TEST(JsonRpc, InvalidUtf8InEveryForm) {
  struct Case {
    const char* bytes;
    const char* what;
  } cases[] = {
      {"\xff", "0xFF"},
      {"\x80", "lone continuation"},
      {"\xc3", "truncated 2-byte"},
      {"\xe2\x82", "truncated 3-byte"},
      {"\xf0\x9f\x98", "truncated 4-byte"},
      {"\xc0\x80", "overlong NUL"},
      {"\xc1\xbf", "overlong 2-byte"},
      {"\xe0\x80\xaf", "overlong 3-byte"},
      {"\xf0\x80\x80\xaf", "overlong 4-byte"},
      {"\xed\xa0\x80", "UTF-8 encoded high surrogate"},
      {"\xed\xbf\xbf", "UTF-8 encoded low surrogate"},
      {"\xf4\x90\x80\x80", "past U+10FFFF"},
      {"\xf5\x80\x80\x80", "F5 lead byte"},
      {"\xc3\x28", "bad continuation"},
  };
  for (const Case& c : cases) {
    std::string line =
        std::string("{\"jsonrpc\":\"2.0\",\"method\":\"m\",\"params\":\"a") + c.bytes + "b\"}";
    EXPECT_EQ(scan(line).kind, MessageKind::invalid) << c.what;
    EXPECT_FALSE(valid_utf8(c.bytes)) << c.what;
    std::string in_key = std::string("{\"k") + c.bytes + "\":1}";
    EXPECT_EQ(scan(in_key).kind, MessageKind::invalid) << c.what << " in a key";
  }
  // Boundaries that are valid.
  for (const char* ok : {"\xc2\x80", "\xdf\xbf", "\xe0\xa0\x80", "\xed\x9f\xbf", "\xee\x80\x80",
                         "\xef\xbf\xbf", "\xf0\x90\x80\x80", "\xf4\x8f\xbf\xbf"}) {
    std::string line =
        std::string("{\"jsonrpc\":\"2.0\",\"method\":\"m\",\"params\":\"") + ok + "\"}";
    MessageInfo i = scan(line);
    EXPECT_EQ(i.kind, MessageKind::notification) << i.error_text;
    EXPECT_TRUE(i.has_non_ascii);
    EXPECT_TRUE(valid_utf8(ok));
  }
}

TEST(JsonRpc, RunsOfNonAsciiAreCheckedToTheirEnd) {
  // Non-ASCII characters in a row are validated without going back to the ASCII skip: a bad
  // byte anywhere in the run, or a run ending at a quote, escape or control byte, must still count.
  const std::string good = "\xc3\xa9\xe4\xb8\x96\xf0\x9f\x98\x80";  // é 世 😀
  auto params = [](const std::string& s) {
    return std::string("{\"jsonrpc\":\"2.0\",\"method\":\"m\",\"params\":\"") + s + "\"}";
  };
  for (int n = 0; n < 5; ++n) {
    std::string run;
    for (int i = 0; i < n; ++i) run += good;
    EXPECT_EQ(scan(params(run)).kind, MessageKind::notification) << n;
    EXPECT_EQ(scan(params(run + "\\n" + run)).kind, MessageKind::notification) << n;
    for (const char* bad : {"\xff", "\x80", "\xc3", "\xe4\xb8", "\xed\xa0\x80", "\xc3\x28"}) {
      EXPECT_EQ(scan(params(run + bad)).kind, MessageKind::invalid) << n << " then bad";
      EXPECT_EQ(scan(params(run + bad + run)).kind, MessageKind::invalid) << n << " bad inside";
    }
    EXPECT_EQ(scan(params(run + "\x01")).kind, MessageKind::invalid) << n << " then control";
    EXPECT_EQ(scan(params(run + "\\q")).kind, MessageKind::invalid) << n << " then bad escape";
  }
}

TEST(JsonRpc, FastPathFindsSpecialBytesAtEveryOffset) {
  // The string scanner skips 16 bytes (SSE2) and then 8 bytes at a time; a quote, backslash,
  // control or high byte must be seen at any position within a block, also after a first one.
  for (size_t pos = 0; pos < 56; ++pos) {
    std::string body(56, 'a');
    std::string ctrl = body;
    ctrl[pos] = '\x1f';
    EXPECT_EQ(scan("{\"s\":\"" + ctrl + "\"}").kind, MessageKind::invalid) << pos;
    std::string high = body;
    high[pos] = '\xff';
    EXPECT_EQ(scan("{\"s\":\"" + high + "\"}").kind, MessageKind::invalid) << pos;
    std::string esc = body;
    esc.replace(pos, 1, "\\\"");
    EXPECT_EQ(scan("{\"s\":\"" + esc + "\"}").kind, MessageKind::other_object) << pos;
    std::string del = body;
    del[pos] = '\x7f';  // DEL is legal in JSON strings
    EXPECT_EQ(scan("{\"s\":\"" + del + "\"}").kind, MessageKind::other_object) << pos;
    std::string space = body;
    space[pos] = ' ';  // the first byte that is not a control character
    EXPECT_EQ(scan("{\"s\":\"" + space + "\"}").kind, MessageKind::other_object) << pos;
    std::string two = body;
    two.replace(pos, 2, "\xc3\xa9");  // a valid two-byte sequence, then a bad byte 16 later
    EXPECT_EQ(scan("{\"s\":\"" + two + "\"}").kind, MessageKind::other_object) << pos;
    if (pos + 17 < two.size()) {
      two[pos + 17] = '\x80';
      EXPECT_EQ(scan("{\"s\":\"" + two + "\"}").kind, MessageKind::invalid) << pos;
    }
    std::string quote = body;
    quote[pos] = '"';  // an unescaped quote ends the string early: what follows is not JSON
    EXPECT_EQ(scan("{\"s\":\"" + quote + "\"}").kind, MessageKind::invalid) << pos;
  }
}

TEST(JsonRpc, DeepNestingIsCappedWithoutCrashing) {
  auto nested = [](int depth) {
    return "{\"jsonrpc\":\"2.0\",\"method\":\"x\",\"params\":" + std::string(depth - 1, '[') +
           std::string(depth - 1, ']') + "}";
  };
  EXPECT_EQ(scan(nested(512)).kind, MessageKind::notification);
  MessageInfo deep = scan(nested(513));
  EXPECT_EQ(deep.kind, MessageKind::invalid);
  EXPECT_NE(deep.error_text.find("deep"), std::string::npos) << deep.error_text;
  // Hostile depth: one million brackets must neither recurse nor crash.
  EXPECT_EQ(scan(std::string(1000000, '[')).kind, MessageKind::invalid);
  EXPECT_EQ(scan(std::string(100000, '{')).kind, MessageKind::invalid);
}

TEST(JsonRpc, TrailingCrAndWhitespaceAreTolerated) {
  for (const char* line : {"{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}\r",
                           "  {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}} \t\r",
                           "\r{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}"}) {
    MessageInfo i = scan(line);
    EXPECT_EQ(i.kind, MessageKind::response) << i.error_text;
    EXPECT_EQ(i.id, "1");
  }
}

TEST(JsonRpc, AgreesWithAFullParserOnValidity) {
  // Differential check against nlohmann/json on a corpus of tricky but valid documents.
  const char* docs[] = {
      R"({"a":-0.0e+00})",
      R"({"a":1E5})",
      R"({"a":[[],[{}],{"b":[]}]})",
      R"({"a":"\u0000"})",
      R"({"a":"\/\b\f\n\r\t"})",
      R"({"":""})",
      R"({"a":true,"b":false,"c":null})",
      R"( { "a" : [ 1 , 2 ] } )",
      R"({"a":123456789012345678901234567890})",
  };
  for (const char* d : docs) {
    bool full_ok = !nlohmann::json::parse(d, nullptr, false).is_discarded();
    EXPECT_TRUE(full_ok) << d;
    EXPECT_NE(scan(d).kind, MessageKind::invalid) << d << ": " << scan(d).error_text;
  }
}

TEST(JsonRpc, FindIdInPrefix) {
  EXPECT_EQ(
      find_id_in_prefix(R"({"jsonrpc":"2.0","id":12,"method":"tools/call","params":{"a":"xx)"),
      "12");
  EXPECT_EQ(find_id_in_prefix(R"({"id":"abc","method")"), "\"abc\"");
  EXPECT_EQ(find_id_in_prefix(R"({"id":0,)"), "0");
  EXPECT_EQ(find_id_in_prefix(R"({"id":-3 ,)"), "-3");
  EXPECT_EQ(find_id_in_prefix(R"(  { "method" : "id" , "id" : 4, )"), "4");
  EXPECT_EQ(find_id_in_prefix(R"({"s":"a\"id\":9","id":"x\"y",)"), R"("x\"y")");
  // Ids that are nested, cut short or missing are not trusted.
  EXPECT_EQ(find_id_in_prefix(R"({"params":{"id":5,"x":[)"), "");
  EXPECT_EQ(find_id_in_prefix(R"({"a":[1,{"id":2}],"b":{"c":{"id":3)"), "");
  EXPECT_EQ(find_id_in_prefix(R"({"a":[1,{"id":2}],"id":3,)"), "3");
  EXPECT_EQ(find_id_in_prefix(R"({"id":12)"), "");
  EXPECT_EQ(find_id_in_prefix(R"({"id":"unterminated)"), "");
  EXPECT_EQ(find_id_in_prefix(R"({"id":null,)"), "");
  EXPECT_EQ(find_id_in_prefix(R"({"id":true,)"), "");
  EXPECT_EQ(find_id_in_prefix(R"([{"id":1},)"), "");
  EXPECT_EQ(find_id_in_prefix(R"({"a":1}, "id":2)"), "");
  EXPECT_EQ(find_id_in_prefix(""), "");
}

TEST(JsonRpc, ErrorResponsesAreValidJsonRpc) {
  std::string r =
      make_error_response("\"a\"", rpc_code::too_large, "mcpcell: line \"too\" big\n\x01");
  MessageInfo i = scan(r);
  EXPECT_EQ(i.kind, MessageKind::error) << i.error_text;
  EXPECT_EQ(i.id, "\"a\"");
  auto j = nlohmann::json::parse(r, nullptr, false);
  ASSERT_FALSE(j.is_discarded());
  EXPECT_EQ(j["error"]["code"], rpc_code::too_large);
  EXPECT_EQ(j["error"]["message"], "mcpcell: line \"too\" big\n\x01");
  MessageInfo n = scan(make_error_response("", rpc_code::parse_error, "x"));
  EXPECT_EQ(n.kind, MessageKind::error);
  EXPECT_EQ(n.id, "null");
  EXPECT_EQ(make_error_response("0", -32002, "m"),
            R"({"jsonrpc":"2.0","id":0,"error":{"code":-32002,"message":"m"}})");
}

TEST(JsonRpc, AppendJsonStringRoundTripsEveryByteBelow0x80) {
  std::string all;
  for (int c = 1; c < 0x80; ++c) all += static_cast<char>(c);
  std::string lit;
  append_json_string(lit, all);
  auto j = nlohmann::json::parse(lit, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << lit;
  EXPECT_EQ(j.get<std::string>(), all);
}

TEST(JsonRpc, AppendJsonStringCopiesRunsBetweenEscapesExactly) {
  // Plain runs are copied in one piece: what sits before, between and after escapes must survive.
  std::string out = "x";
  append_json_string(out,
                     "\"ab\\cd\ne\x7f\xc3\xa9"
                     "f\t");
  EXPECT_EQ(out,
            "x\"\\\"ab\\\\cd\\ne\\u007f\xc3\xa9"
            "f\\t\"");
  out.clear();
  append_json_string(out, "");
  EXPECT_EQ(out, "\"\"");
  out.clear();
  append_json_string(out, "plain text only");
  EXPECT_EQ(out, "\"plain text only\"");
}

TEST(JsonRpc, KindNames) {
  EXPECT_STREQ(to_string(MessageKind::request), "request");
  EXPECT_STREQ(to_string(MessageKind::batch), "batch");
  EXPECT_STREQ(to_string(MessageKind::other_object), "other");
}

}  // namespace
}  // namespace mcpcell

TEST(JsonRpc, PrefixIdIsTheLastOfDuplicateKeysLikeJsonParse) {
  EXPECT_EQ(mcpcell::find_id_in_prefix(R"({"id":1,"id":2,"method":"x","params":{"d":"aaaa)"), "2");
  EXPECT_EQ(mcpcell::find_id_in_prefix(R"({"id":"a","params":{"id":9},"method":"x)"), "\"a\"");
}
