<?php
/**
 * The plugin on a multisite network (subdirectories), in a second WordPress beside the test
 * site (same MariaDB, table prefix `ms_`). Two steps, two processes, because MULTISITE must
 * be defined before WordPress loads:
 *
 *   php multisite.php DOCROOT URL install   single-site install, then the network tables and
 *                                           rows; writes ms-on.php, which wp-config.php
 *                                           requires to turn MULTISITE on
 *   php multisite.php DOCROOT URL check     on the network: a site made before activation,
 *                                           network activation, a site made after it, a site
 *                                           deleted, network deactivation and uninstall
 *
 * Prints `ok - …` / `not ok - …` and `N passed, N failed`; exits 1 on a failure.
 *
 * @package Echo5_Leads
 */

if ( PHP_SAPI !== 'cli' ) {
	exit( 1 );
}
list( , $echo5_docroot, $echo5_url, $echo5_step ) = $argv;
$echo5_parts                                     = parse_url( $echo5_url ); // phpcs:ignore Echo5WP -- before WordPress is loaded.
$echo5_host                                      = $echo5_parts['host'] . ':' . $echo5_parts['port'];
$_SERVER['HTTP_HOST']                            = $echo5_host;
$_SERVER['SERVER_NAME']                          = $echo5_parts['host'];
$_SERVER['REQUEST_URI']                          = '/';
$_SERVER['SERVER_PROTOCOL']                      = 'HTTP/1.1';

if ( 'install' === $echo5_step ) {
	define( 'WP_INSTALLING', true );
	require $echo5_docroot . '/wp-load.php';
	require_once ABSPATH . 'wp-admin/includes/upgrade.php';
	require_once ABSPATH . 'wp-admin/includes/network.php';
	wp_install( 'Echo5 network', 'admin', 'admin@example.com', true, '', 'echo5-admin-pass' );
	update_option( 'siteurl', $echo5_url );
	update_option( 'home', $echo5_url );
	// As wp-admin/network.php does: a single site's $wpdb does not name the network tables.
	foreach ( $wpdb->tables( 'ms_global' ) as $echo5_table => $echo5_prefixed ) {
		$wpdb->$echo5_table = $echo5_prefixed;
	}
	install_network();
	$echo5_result = populate_network( 1, $echo5_host, 'admin@example.com', 'Echo5 network', '/', false );
	if ( is_wp_error( $echo5_result ) ) {
		fwrite( STDERR, $echo5_result->get_error_message() . "\n" );
		exit( 1 );
	}
	file_put_contents( // phpcs:ignore Echo5WP -- a test's config file.
		$echo5_docroot . '/ms-on.php',
		"<?php\ndefine( 'MULTISITE', true );\ndefine( 'SUBDOMAIN_INSTALL', false );\ndefine( 'DOMAIN_CURRENT_SITE', '" . $echo5_host . "' );\ndefine( 'PATH_CURRENT_SITE', '/' );\ndefine( 'SITE_ID_CURRENT_SITE', 1 );\ndefine( 'BLOG_ID_CURRENT_SITE', 1 );\n"
	);
	echo "network installed\n";
	exit( 0 );
}

require $echo5_docroot . '/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/plugin.php';
require_once ABSPATH . 'wp-admin/includes/admin.php';

$GLOBALS['echo5_passed'] = 0;
$GLOBALS['echo5_failed'] = 0;

/**
 * Records one check.
 *
 * @param string $name What is checked.
 * @param bool   $ok   Whether it holds.
 * @param string $why  Shown when it does not.
 */
function echo5_check( $name, $ok, $why = '' ) {
	if ( $ok ) {
		++$GLOBALS['echo5_passed'];
		echo 'ok - ' . $name . "\n";
	} else {
		++$GLOBALS['echo5_failed'];
		echo 'not ok - ' . $name . ( '' !== $why ? ': ' . $why : '' ) . "\n";
	}
}

/**
 * The plugin's outbox tables in the database, by name.
 *
 * @return string[]
 */
function echo5_tables() {
	global $wpdb;
	return $wpdb->get_col( $wpdb->prepare( 'SHOW TABLES LIKE %s', 'ms\_%echo5\_leads\_outbox' ) );
}

/**
 * Whether a site has the plugin's retry event scheduled.
 *
 * @param int $blog_id Site.
 */
function echo5_cron_on( $blog_id ) {
	switch_to_blog( $blog_id );
	$on = (bool) wp_next_scheduled( 'echo5_leads_flush' );
	restore_current_blog();
	return $on;
}

echo5_check( 'the network is multisite', is_multisite() );
$echo5_before = wp_insert_site(
	array(
		'domain' => $echo5_host,
		'path'   => '/before/',
		'title'  => 'Made before activation',
	)
);
echo5_check( 'a site made before activation', is_int( $echo5_before ), is_wp_error( $echo5_before ) ? $echo5_before->get_error_message() : '' );
echo5_check( 'no outbox table before activation', array() === echo5_tables(), wp_json_encode( echo5_tables() ) );

$echo5_result = activate_plugin( 'echo5-leads/echo5-leads.php', '', true );
echo5_check( 'network activation', null === $echo5_result && is_plugin_active_for_network( 'echo5-leads/echo5-leads.php' ), is_wp_error( $echo5_result ) ? $echo5_result->get_error_message() : '' );
$echo5_expect = array( 'ms_' . $echo5_before . '_echo5_leads_outbox', 'ms_echo5_leads_outbox' );
echo5_check( 'network activation: a table on every site', $echo5_expect === echo5_tables(), wp_json_encode( echo5_tables() ) );
echo5_check( 'network activation: the retry event on every site', echo5_cron_on( 1 ) && echo5_cron_on( $echo5_before ) );

$echo5_after = wp_insert_site(
	array(
		'domain' => $echo5_host,
		'path'   => '/after/',
		'title'  => 'Made after activation',
	)
);
echo5_check( 'a site made after network activation gets its table at once', in_array( 'ms_' . $echo5_after . '_echo5_leads_outbox', echo5_tables(), true ), wp_json_encode( echo5_tables() ) );
echo5_check( 'a site made after network activation gets its retry event', echo5_cron_on( $echo5_after ) );

// A submission on the new site lands in that site's table only.
switch_to_blog( $echo5_after );
$echo5_row = Echo5_Leads_Outbox::enqueue( 'wp-ms-test-' . wp_generate_uuid4(), 'test', 'f', 'Per site', '{"email":"site3@example.com"}' );
echo5_check( 'a site stores into its own table', $echo5_row > 0 && 1 === (int) $wpdb->get_var( "SELECT COUNT(*) FROM {$wpdb->prefix}echo5_leads_outbox" ) );
restore_current_blog();
echo5_check( 'the main site does not see it', 0 === (int) $wpdb->get_var( "SELECT COUNT(*) FROM {$wpdb->prefix}echo5_leads_outbox" ) );

wp_delete_site( $echo5_before );
echo5_check( 'a deleted site\'s table is dropped with it', ! in_array( 'ms_' . $echo5_before . '_echo5_leads_outbox', echo5_tables(), true ), wp_json_encode( echo5_tables() ) );

// What a network administrator does: network-deactivate, then delete the plugin.
switch_to_blog( $echo5_after );
update_option( 'echo5_leads_url', 'http://leads.example' );
restore_current_blog();
deactivate_plugins( 'echo5-leads/echo5-leads.php', false, true );
echo5_check( 'network deactivation stops the retry event on every site', ! echo5_cron_on( 1 ) && ! echo5_cron_on( $echo5_after ) );
uninstall_plugin( 'echo5-leads/echo5-leads.php' );
echo5_check( 'uninstall drops the table of every site', array() === echo5_tables(), wp_json_encode( echo5_tables() ) );
$echo5_left = array();
foreach ( array( 1, $echo5_after ) as $echo5_blog ) {
	switch_to_blog( $echo5_blog );
	$echo5_left = array_merge( $echo5_left, $wpdb->get_col( $wpdb->prepare( "SELECT option_name FROM {$wpdb->options} WHERE option_name LIKE %s", '%echo5_leads%' ) ) );
	restore_current_blog();
}
echo5_check( 'uninstall removes the options of every site', array() === $echo5_left, wp_json_encode( $echo5_left ) );

printf( "%d passed, %d failed\n", (int) $GLOBALS['echo5_passed'], (int) $GLOBALS['echo5_failed'] );
exit( $GLOBALS['echo5_failed'] > 0 ? 1 : 0 );
