<?php
/**
 * A small command line into the test site's WordPress (Debian has no WP-CLI): loads
 * wp-load.php of the docroot and runs one command. Used by run.py only.
 *
 *   php wp.php DOCROOT URL install PAGE_TITLE    install, activate the plugin, make the form page
 *   php wp.php DOCROOT URL option-set NAME VALUE
 *   php wp.php DOCROOT URL outbox                 every outbox row as JSON
 *   php wp.php DOCROOT URL outbox-clear
 *   php wp.php DOCROOT URL plugin on|off          activate or deactivate the plugin
 *   php wp.php DOCROOT URL uninstall              uninstall the plugin, report what is left
 *
 * @package Echo5_Leads
 */

if ( PHP_SAPI !== 'cli' ) {
	exit( 1 );
}
$echo5_args = array_slice( $argv, 1 );
if ( count( $echo5_args ) < 3 ) {
	fwrite( STDERR, "usage: php wp.php DOCROOT URL COMMAND [ARGS]\n" );
	exit( 2 );
}
list( $echo5_docroot, $echo5_url, $echo5_command ) = $echo5_args;
$echo5_rest                                         = array_slice( $echo5_args, 3 );
$echo5_parts                                        = parse_url( $echo5_url ); // phpcs:ignore Echo5WP -- before WordPress is loaded.
$_SERVER['HTTP_HOST']                               = $echo5_parts['host'] . ( isset( $echo5_parts['port'] ) ? ':' . $echo5_parts['port'] : '' );
$_SERVER['SERVER_NAME']                             = $echo5_parts['host'];
$_SERVER['REQUEST_URI']                             = '/';
$_SERVER['SERVER_PROTOCOL']                         = 'HTTP/1.1';

if ( 'install' === $echo5_command ) {
	define( 'WP_INSTALLING', true );
}
require $echo5_docroot . '/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/plugin.php';

switch ( $echo5_command ) {
	case 'install':
		require_once ABSPATH . 'wp-admin/includes/upgrade.php';
		if ( ! is_blog_installed() ) {
			wp_install( 'Echo5 test site', 'admin', 'admin@example.com', true, '', 'echo5-admin-pass' );
		}
		update_option( 'siteurl', $echo5_url );
		update_option( 'home', $echo5_url );
		$echo5_result = activate_plugin( 'echo5-leads/echo5-leads.php' );
		if ( is_wp_error( $echo5_result ) ) {
			fwrite( STDERR, $echo5_result->get_error_message() . "\n" );
			exit( 1 );
		}
		$echo5_page = wp_insert_post(
			array(
				'post_type'    => 'page',
				'post_status'  => 'publish',
				'post_title'   => $echo5_rest[0] ?? 'Contact',
				'post_content' => '<!-- wp:shortcode -->[echo5_form name="Contact page"]<!-- /wp:shortcode -->',
			)
		);
		echo wp_json_encode( array( 'page_url' => get_permalink( $echo5_page ) ) ), "\n";
		break;
	case 'option-set':
		update_option( $echo5_rest[0], $echo5_rest[1] );
		break;
	case 'outbox':
		global $wpdb;
		$echo5_table = $wpdb->prefix . 'echo5_leads_outbox';
		echo wp_json_encode( $wpdb->get_results( "SELECT * FROM {$echo5_table} ORDER BY id", ARRAY_A ) ), "\n"; // phpcs:ignore Echo5WP -- test helper.
		break;
	case 'outbox-clear':
		global $wpdb;
		$wpdb->query( "DELETE FROM {$wpdb->prefix}echo5_leads_outbox" );
		break;
	case 'plugin':
		if ( 'on' === ( $echo5_rest[0] ?? '' ) ) {
			activate_plugin( 'echo5-leads/echo5-leads.php' );
		} else {
			deactivate_plugins( 'echo5-leads/echo5-leads.php' );
		}
		break;
	case 'uninstall':
		global $wpdb;
		deactivate_plugins( 'echo5-leads/echo5-leads.php' );
		uninstall_plugin( 'echo5-leads/echo5-leads.php' );
		$echo5_left = array(
			'table'   => (string) $wpdb->get_var( $wpdb->prepare( 'SHOW TABLES LIKE %s', $wpdb->prefix . 'echo5_leads_outbox' ) ),
			'options' => $wpdb->get_col( $wpdb->prepare( "SELECT option_name FROM {$wpdb->options} WHERE option_name LIKE %s", '%echo5_leads%' ) ),
			'cron'    => (bool) wp_next_scheduled( 'echo5_leads_flush' ),
		);
		echo wp_json_encode( $echo5_left ), "\n";
		break;
	default:
		fwrite( STDERR, "unknown command $echo5_command\n" );
		exit( 2 );
}
