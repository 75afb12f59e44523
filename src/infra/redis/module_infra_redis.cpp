// placeholder so the library is never empty
namespace tk { [[maybe_unused]] static int infra_redis_placeholder = 0; }
