// Which bytes of a 16- to 64-byte block belong to a small set, as a 64-bit mask (bit i for byte i).
//
// On dense escapes (JSON returned as text: `\"` every few bytes) a byte-at-a-time or
// memchr-per-escape walk spent most of its time restarting; one mask per 64 bytes and a
// count-trailing-zeros per escape do not. SSE2 where the compiler targets it (every x86-64);
// elsewhere the same from 64-bit words. Both are always compiled so the tests can hold one
// against the other.
#pragma once

#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace mcpcell::scan {

// N is 16, 32 or 64.

// An exact zero-byte test per word (no borrow from one byte into the next, so no false hits
// above a real one), then the eight high bits gathered into one byte by a multiply whose partial
// products never land on the same bit.
template <int N, char... Cs>
uint64_t block_mask_words(const char* p) {
  constexpr uint64_t lo7 = 0x7F7F7F7F7F7F7F7FULL, ones = 0x0101010101010101ULL;
  uint64_t m = 0;
  for (int k = 0; k < N / 8; ++k) {
    uint64_t w;
    std::memcpy(&w, p + 8 * k, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    w = __builtin_bswap64(w);
#endif
    uint64_t hit = 0;
    auto eq = [w](char c) {
      uint64_t x = w ^ (ones * static_cast<unsigned char>(c));
      return ~(((x & lo7) + lo7) | x | lo7);  // 0x80 exactly where x has a zero byte
    };
    ((hit |= eq(Cs)), ...);
    m |= (((hit >> 7) * 0x0102040810204080ULL) >> 56) << (8 * k);
  }
  return m;
}

#if defined(__SSE2__)
template <int N, char... Cs>
uint64_t block_mask_sse2(const char* p) {
  uint64_t m = 0;
  for (int k = 0; k < N / 16; ++k) {
    __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * k));
    __m128i hit = _mm_setzero_si128();
    ((hit = _mm_or_si128(hit, _mm_cmpeq_epi8(v, _mm_set1_epi8(Cs)))), ...);
    m |= static_cast<uint64_t>(static_cast<uint16_t>(_mm_movemask_epi8(hit))) << (16 * k);
  }
  return m;
}
#endif

template <int N, char... Cs>
inline uint64_t block_mask(const char* p) {
#if defined(__SSE2__)
  return block_mask_sse2<N, Cs...>(p);
#else
  return block_mask_words<N, Cs...>(p);
#endif
}

}  // namespace mcpcell::scan
