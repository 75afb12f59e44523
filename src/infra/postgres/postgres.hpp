#pragma once
// Umbrella header of the PostgreSQL client (see README.md in this folder).
#include "infra/postgres/connection.hpp"
#include "infra/postgres/errors.hpp"
#include "infra/postgres/migrate.hpp"
#include "infra/postgres/pool.hpp"
#include "infra/postgres/replica.hpp"
#include "infra/postgres/rows.hpp"
#include "infra/postgres/transaction.hpp"
