// placeholder so the library is never empty
namespace tk { [[maybe_unused]] static int domain_placeholder = 0; }
