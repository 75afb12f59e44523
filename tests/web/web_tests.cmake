# Web front-end (web/): npm ci when node_modules does not match package-lock.json, type-check and
# build into this build folder (fixture `web`); Vitest unit tests; Playwright (playwright-core with
# Debian's chromium, headless) end-to-end scenarios against the real service serving the built
# front-end from the same origin, on the CTest fixture's PostgreSQL + Redis. Screenshots of the
# scenarios go to <build>/web-screenshots (scripts/screenshots.sh refreshes docs/screenshots/).
set(TK_WEB_DIR ${CMAKE_SOURCE_DIR}/web)
set(TK_WEB_DIST ${CMAKE_BINARY_DIR}/web-dist)
set(TK_WEB_SHOTS ${CMAKE_BINARY_DIR}/web-screenshots)

add_test(NAME web_setup COMMAND ${TK_WEB_DIR}/scripts/setup.sh ${TK_WEB_DIST})
set_tests_properties(web_setup PROPERTIES FIXTURES_SETUP web TIMEOUT 900 LABELS web RESOURCE_LOCK web_npm)

add_test(NAME web_unit COMMAND npx --no-install vitest run WORKING_DIRECTORY ${TK_WEB_DIR})
set_tests_properties(web_unit PROPERTIES FIXTURES_REQUIRED web TIMEOUT 300 LABELS "web;unit")

foreach(scenario buyer race reload operator findings waiting a11y tickets refund search waitlist)
  add_test(NAME web_e2e_${scenario}
    COMMAND ${TK_WEB_DIR}/e2e/run.sh $<TARGET_FILE:ticketing> ${TK_TEST_STEADY_ENV} ${TK_WEB_DIST} ${scenario} ${TK_WEB_SHOTS})
  set_tests_properties(web_e2e_${scenario} PROPERTIES FIXTURES_REQUIRED "steady;web" RESOURCE_LOCK steady
    TIMEOUT 400 LABELS "web;e2e")
endforeach()

# The same scenarios through the HA front (scripts/ha.sh: nginx + ModSecurity edge and HAProxy with
# TLS from a CA made for the run): the WAF passes the web app's every request.
foreach(scenario buyer operator tickets refund)
  add_test(NAME web_e2e_ha_${scenario}
    COMMAND ${TK_WEB_DIR}/e2e/run.sh $<TARGET_FILE:ticketing> ${TK_TEST_STEADY_ENV} ${TK_WEB_DIST} ${scenario} ${TK_WEB_SHOTS}/ha ha)
  set_tests_properties(web_e2e_ha_${scenario} PROPERTIES FIXTURES_REQUIRED "steady;web" RESOURCE_LOCK steady
    TIMEOUT 400 LABELS "web;e2e")
endforeach()
