// placeholder so the library is never empty
namespace tk { [[maybe_unused]] static int app_placeholder = 0; }
