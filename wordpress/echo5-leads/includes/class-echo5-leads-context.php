<?php
/**
 * The visitor's context at submission: how they arrived (the attribution cookie the
 * first-party script keeps), the page, their IP address and browser.
 *
 * @package Echo5_Leads
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * Reads what the browser and the request tell about the visitor.
 */
final class Echo5_Leads_Context {

	const COOKIE = 'echo5_attr';

	/**
	 * The attribution fields, in the daemon's names.
	 */
	const ATTRIBUTION = array( 'utm_source', 'utm_medium', 'utm_campaign', 'utm_term', 'utm_content', 'gclid', 'fbclid' );

	/**
	 * Hooks the script on the front end.
	 */
	public static function register(): void {
		add_action( 'wp_enqueue_scripts', array( __CLASS__, 'enqueue' ) );
	}

	/**
	 * The attribution script, on every front-end page (about 2 KB, no dependencies).
	 */
	public static function enqueue(): void {
		if ( ! apply_filters( 'echo5_leads_track_attribution', true ) ) {
			return;
		}
		wp_enqueue_script(
			'echo5-leads-attribution',
			plugins_url( 'assets/echo5-attribution.js', ECHO5_LEADS_FILE ),
			array(),
			ECHO5_LEADS_VERSION,
			true
		);
	}

	/**
	 * The attribution cookie's fields (utm_*, gclid, fbclid, landing_page, referrer), cleaned.
	 *
	 * @return array<string,string>
	 */
	public static function attribution(): array {
		if ( ! isset( $_COOKIE[ self::COOKIE ] ) || ! is_string( $_COOKIE[ self::COOKIE ] ) ) {
			return array();
		}
		$decoded = json_decode( wp_unslash( $_COOKIE[ self::COOKIE ] ), true );
		if ( ! is_array( $decoded ) ) {
			return array();
		}
		$out = array();
		foreach ( array_merge( self::ATTRIBUTION, array( 'landing_page', 'referrer' ) ) as $key ) {
			if ( isset( $decoded[ $key ] ) && is_scalar( $decoded[ $key ] ) ) {
				$value = in_array( $key, array( 'landing_page', 'referrer' ), true )
					? esc_url_raw( (string) $decoded[ $key ] )
					: sanitize_text_field( (string) $decoded[ $key ] );
				if ( '' !== $value ) {
					$out[ $key ] = mb_substr( $value, 0, 1000 );
				}
			}
		}
		return $out;
	}

	/**
	 * Attribution parameters in a URL's query string.
	 *
	 * @param string $url A page URL.
	 * @return array<string,string>
	 */
	public static function attribution_in_url( string $url ): array {
		$query = wp_parse_url( $url, PHP_URL_QUERY );
		if ( ! is_string( $query ) || '' === $query ) {
			return array();
		}
		parse_str( $query, $params );
		$out = array();
		foreach ( self::ATTRIBUTION as $key ) {
			if ( isset( $params[ $key ] ) && is_string( $params[ $key ] ) && '' !== $params[ $key ] ) {
				$out[ $key ] = sanitize_text_field( $params[ $key ] );
			}
		}
		return $out;
	}

	/**
	 * The page the request came from (the Referer header of a same-origin form post), or ''.
	 */
	public static function referer_header(): string {
		if ( empty( $_SERVER['HTTP_REFERER'] ) || ! is_string( $_SERVER['HTTP_REFERER'] ) ) {
			return '';
		}
		return esc_url_raw( wp_unslash( $_SERVER['HTTP_REFERER'] ) );
	}

	/**
	 * The visitor's IP address as PHP sees it. Behind a proxy, the filter can say which header
	 * to trust: the plugin trusts none by default, since any visitor can send one.
	 */
	public static function ip(): string {
		$ip = isset( $_SERVER['REMOTE_ADDR'] ) && is_string( $_SERVER['REMOTE_ADDR'] ) ? sanitize_text_field( wp_unslash( $_SERVER['REMOTE_ADDR'] ) ) : '';
		$ip = (string) apply_filters( 'echo5_leads_visitor_ip', $ip );
		return false !== filter_var( $ip, FILTER_VALIDATE_IP ) ? $ip : '';
	}

	/**
	 * The visitor's User-Agent header.
	 */
	public static function user_agent(): string {
		if ( empty( $_SERVER['HTTP_USER_AGENT'] ) || ! is_string( $_SERVER['HTTP_USER_AGENT'] ) ) {
			return '';
		}
		return mb_substr( sanitize_text_field( wp_unslash( $_SERVER['HTTP_USER_AGENT'] ) ), 0, 500 );
	}

	/**
	 * Meta's and Google's own click cookies, sent as they are (custom fields at the daemon).
	 *
	 * @return array<string,string>
	 */
	public static function click_cookies(): array {
		$out = array();
		foreach ( array( '_fbc', '_fbp', '_gcl_aw' ) as $name ) {
			if ( isset( $_COOKIE[ $name ] ) && is_string( $_COOKIE[ $name ] ) && '' !== $_COOKIE[ $name ] ) {
				$out[ ltrim( $name, '_' ) ] = mb_substr( sanitize_text_field( wp_unslash( $_COOKIE[ $name ] ) ), 0, 300 );
			}
		}
		return $out;
	}
}
