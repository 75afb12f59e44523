// placeholder so the library is never empty
namespace tk { [[maybe_unused]] static int http_placeholder = 0; }
