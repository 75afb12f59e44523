#pragma once
// Umbrella header of the crypto module (see README.md).
#include "common/crypto/encoding.hpp"
#include "common/crypto/errors.hpp"
#include "common/crypto/keyring.hpp"
#include "common/crypto/password.hpp"
#include "common/crypto/signer.hpp"
#include "common/crypto/ticket_codes.hpp"
#include "common/crypto/tokens.hpp"
