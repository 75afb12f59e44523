/* A bot's proof-of-work loop in C on one core: hashes per second of challenge || decimal counter,
 * the message shape the waiting room checks, with the challenge's state computed once (each
 * nonce only finishes the hash from a copy of it). Two implementations: libsodium's portable
 * SHA-256 and OpenSSL's, which uses the CPU's SHA extensions where there are some.
 *   native_rate CHALLENGE SECONDS -> "<sodium hashes/s> <openssl hashes/s>" */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int digits_of(unsigned long long v, unsigned char* out) {
  int len = 0;
  do { out[len++] = (unsigned char)('0' + v % 10); v /= 10; } while (v);
  for (int a = 0, b = len - 1; a < b; a++, b--) {
    unsigned char t = out[a]; out[a] = out[b]; out[b] = t;
  }
  return len;
}

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char** argv) {
  const char* challenge = argc > 1 ? argv[1] : "k1.challenge";
  double seconds = argc > 2 ? atof(argv[2]) : 3.0;
  if (sodium_init() < 0) return 1;
  unsigned char digits[24], out[32];
  unsigned long long sink = 0;

  crypto_hash_sha256_state sp, ss;
  crypto_hash_sha256_init(&sp);
  crypto_hash_sha256_update(&sp, (const unsigned char*)challenge, strlen(challenge));
  unsigned long long n1 = 0;
  double t0 = now_s(), e1 = 0;
  while (e1 < seconds) {
    for (int i = 0; i < 100000; i++) {
      int len = digits_of(++n1, digits);
      ss = sp;
      crypto_hash_sha256_update(&ss, digits, (unsigned long long)len);
      crypto_hash_sha256_final(&ss, out);
      sink += out[0];
    }
    e1 = now_s() - t0;
  }

  SHA256_CTX op, os;
  SHA256_Init(&op);
  SHA256_Update(&op, challenge, strlen(challenge));
  unsigned long long n2 = 0;
  t0 = now_s();
  double e2 = 0;
  while (e2 < seconds) {
    for (int i = 0; i < 100000; i++) {
      int len = digits_of(++n2, digits);
      os = op;
      SHA256_Update(&os, digits, (size_t)len);
      SHA256_Final(out, &os);
      sink += out[0];
    }
    e2 = now_s() - t0;
  }
  printf("%.0f %.0f %llu\n", (double)n1 / e1, (double)n2 / e2, sink & 1);
  return 0;
}
