// placeholder so the library is never empty
namespace tk { [[maybe_unused]] static int workers_placeholder = 0; }
